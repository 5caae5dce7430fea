// village_sim classroom: the instructor's screen (on the instructor's laptop only).
"use strict";

let lang = "en";
let last = null;          // the last overview
let drawn = "";           // what the figures last showed (month, decision, view, language)

async function loadTexts(to) {
  lang = to;
  await fetchTexts(lang, "instructor_title");
  drawn = "";
  $("event-kind").replaceChildren();
  if (last) show(last);
}

async function post(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify(body)});
  const answer = await r.json();
  $("error").textContent = r.ok ? "" : answer.error;
  refresh();
}

function seatChoices(o) {
  const choices = [["", t("nobody")]];
  for (let k = 0; k < o.committee; k++) choices.push([`cadre:${k}`, seatText({role: "cadre", index: k})]);
  for (let j = 0; j < o.team; j++) choices.push([`team:${j}`, seatText({role: "team", index: j})]);
  choices.push(["auditor:0", t("role_auditor")], ["household", t("role_household")]);
  return choices;
}

function participantRow(o, p) {
  const select = el("select");
  for (const [value, label] of seatChoices(o)) select.append(el("option", {value, text: label}));
  const current = p.seat ? (p.seat.role === "household" ? "household" : `${p.seat.role}:${p.seat.index}`) : "";
  select.value = current;
  const households = el("input", {placeholder: "3, 17", value: p.seat && p.seat.role === "household" ? p.seat.households.join(", ") : ""});
  const assign = el("button", {type: "button", class: "secondary", text: t("assign")});
  assign.addEventListener("click", () => {
    const v = select.value;
    if (v === "") return post("/api/instructor/assign", {participant: p.id, role: null});
    if (v === "household") {
      const list = households.value.split(/[,\s]+/).filter((x) => x !== "").map(Number);
      return post("/api/instructor/assign", {participant: p.id, role: "household", households: list});
    }
    const [role, index] = v.split(":");
    return post("/api/instructor/assign", {participant: p.id, role, index: Number(index)});
  });
  const remove = el("button", {type: "button", class: "secondary", text: t("remove")});
  remove.addEventListener("click", () => post("/api/instructor/assign", {participant: p.id, remove: true}));
  return el("tr", {}, el("td", {text: p.nickname}), el("td", {text: p.lang}),
            el("td", {class: "assign"}, select, households, assign), el("td", {}, remove));
}

// "+12 (2), −5 (1)": households the cadres would add or drop, with how many would
function changes(votes) {
  const parts = votes.add.map(([h, n]) => `+${h} (${n})`).concat(votes.drop.map(([h, n]) => `−${h} (${n})`));
  return parts.length ? parts.join(", ") : "–";
}

function show(o) {
  last = o;
  $("room-code").textContent = o.code || "";
  $("join-url").textContent = o.code ? `${o.join_url}` : o.join_url;
  $("month").textContent = o.month;
  $("status").textContent = o.error ? o.error : (o.paused ? t("paused") : "");
  const box = $("decision");
  if (o.decision) {
    const d = o.decision;
    const rows = d.seats.map((s) => el("li", {text: `${seatText(s)} · ${s.nickname || ""} · ${s.answered ? t("answered") : t("waiting_for")}`}));
    const amending = d.chair_list ? [el("p", {text: t("chair_proposed", {n: d.chair_list.length})}),
                                     el("p", {text: t("votes_so_far", {answered: d.votes.answered,
                                                                       changes: changes(d.votes)})})] : [];
    box.replaceChildren(el("p", {text: `${t(`decision_${d.decision}`)} · ${t("seconds_left", {seconds: Math.round(d.seconds_left)})}`}),
                        ...amending, el("ul", {}, ...rows));
  } else {
    box.replaceChildren(el("p", {text: o.running ? "…" : t("nobody")}));
  }
  const l = o.last_list;
  $("last-list").textContent = l ? t("list_result", {month: l.month, n: l.chair,
    added: l.added.length ? l.added.join(", ") : "–", removed: l.removed.length ? l.removed.join(", ") : "–"}) : "";
  const kinds = $("event-kind");
  if (kinds.options.length !== o.events.length) {
    kinds.replaceChildren(...o.events.map((k) => el("option", {value: k, text: t(`event_${k}`)})));
  }
  const editing = document.activeElement && $("participants").contains(document.activeElement);
  if (!editing) $("participants").replaceChildren(...o.participants.map((p) => participantRow(o, p)));
  $("refusals").textContent = o.refusals ? `${t("refusals")}: ${o.refusals}` : "";
  const reveal = $("reveal").checked ? "1" : "0";
  const key = `${o.month}|${o.decision ? o.decision.id : ""}|${reveal}|${lang}`;
  if (key !== drawn) {
    drawn = key;
    const stamp = encodeURIComponent(key);
    $("network").src = `/api/instructor/figure/network?reveal=${reveal}&lang=${lang}&v=${stamp}`;
    $("network").alt = reveal === "1" ? t("view_truth") : t("view_committee");
    for (const c of ["kin_premium", "diverted_share", "exclusion_error", "poverty_headcount"]) {
      $(`chart-${c}`).src = `/api/instructor/figure/${c}?lang=${lang}&v=${stamp}`;
    }
  }
}

async function refresh() {
  const r = await fetch("/api/instructor/overview");
  if (!r.ok) { $("status").textContent = (await r.json()).error; return; }
  show(await r.json());
}

async function start() {
  const o = await (await fetch("/api/instructor/overview")).json();
  $("lang").value = o.lang || "en";
  $("qr").src = "/api/instructor/qr.svg";
  await loadTexts($("lang").value);
  show(o);
  $("lang").addEventListener("change", () => loadTexts($("lang").value));
  const control = (action) => () => post("/api/instructor/control", {action});
  $("month-button").addEventListener("click", control("month"));
  $("year-button").addEventListener("click", control("year"));
  $("auto-button").addEventListener("click", control("auto"));
  $("stop-button").addEventListener("click", control("stop"));
  $("pause-button").addEventListener("click", control("pause"));
  $("resume-button").addEventListener("click", control("resume"));
  $("close-button").addEventListener("click", control("close"));
  $("deal-button").addEventListener("click", control("deal"));
  $("event-button").addEventListener("click", () => post("/api/instructor/event", {kind: $("event-kind").value}));
  $("reveal").addEventListener("change", () => show(last));
  setInterval(refresh, 1000);
}

start();
