// village_sim classroom: a participant's page. It only displays what the server sends and
// sends the participant's choices back; the server checks every one (roles, rules, once).
"use strict";

let socket = null;
let state = null;      // the last state the server sent
let deadline = null;   // when the decision under way closes (this page's clock)
let removed = false;
let retry = 500;

async function loadTexts(lang) {
  await fetchTexts(lang, "title");
}

function guessLang() {
  const l = (navigator.language || "en").toLowerCase();
  return l.startsWith("zh") ? "zh" : l.startsWith("vi") ? "vi" : "en";
}

async function start() {
  const s = await (await fetch("/api/me")).json();
  if (s.type === "state") {
    await loadTexts(s.lang);
    connect();
    return;
  }
  const lang = guessLang();
  $("lang").value = lang;
  await loadTexts(lang);
  $("code-row").hidden = !T.needs_code;
  const params = new URLSearchParams(location.search);
  if (params.get("code")) $("code").value = params.get("code");
  $("join").hidden = false;
  $("lang").addEventListener("change", () => loadTexts($("lang").value));
  $("join").addEventListener("submit", join);
}

async function join(event) {
  event.preventDefault();
  $("join-error").textContent = "";
  const body = {code: $("code").value, nickname: $("nickname").value, lang: $("lang").value};
  const r = await fetch("/api/join", {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify(body)});
  const answer = await r.json();
  if (!r.ok) { $("join-error").textContent = answer.error; return; }
  $("join").hidden = true;
  connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => { retry = 500; $("status").textContent = ""; };
  socket.onmessage = (m) => receive(JSON.parse(m.data));
  socket.onclose = () => {
    if (removed) return;
    $("status").textContent = t("reconnecting");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 8000);
  };
}

function receive(message) {
  if (message.type === "state") { show(message); return; }
  if (message.type === "removed") {
    removed = true;
    $("room").hidden = true;
    $("status").textContent = t("removed");
    return;
  }
  const feedback = $("feedback");
  feedback.className = message.type;
  feedback.textContent = message.type === "ack" ? t("sent") : `${t("refused")} ${message.message}`;
}

function show(s) {
  const before = state;
  state = s;
  $("room").hidden = false;
  $("who").textContent = t("joined_as", {nickname: s.nickname});
  $("seat").textContent = seatText(s.seat);
  $("month").textContent = s.month;
  const pending = s.pending[0];
  const same = before && before.pending[0] && pending && before.pending[0].id === pending.id;
  if (pending) {
    deadline = Date.now() + pending.seconds_left * 1000;
    if (!same) { $("feedback").textContent = ""; $("feedback").className = ""; render(pending); }
  } else {
    deadline = null;
    const box = $("decision");
    box.replaceChildren(el("p", {class: "help", text: t("wait")}));
  }
  tick();
}

function tick() {
  if (!state) return;
  if (state.paused) { $("timer").textContent = t("paused"); return; }
  if (deadline === null) { $("timer").textContent = ""; return; }
  const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  $("timer").textContent = t("seconds_left", {seconds: left});
}
setInterval(tick, 1000);

function send(decision, action) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({type: "act", decision: decision.id, action: action}));
}

// ---------------------------------------------------------------------------- the forms
function checklist(rows, columns, {limit = null, chosen = new Set(), enabled = () => true,
                                   kin = () => false, idTitle = null}) {
  const table = el("table");
  const head = el("tr", {}, el("th", {text: ""}), el("th", {text: idTitle || t("household")}));
  for (const c of columns) head.append(el("th", {text: c.title}));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  const counter = el("p", {class: "counter"});
  const boxes = [];
  const count = () => {
    const n = boxes.filter((b) => b.checked).length;
    counter.textContent = limit === null ? t("chosen", {n}) : `${t("chosen", {n})} / ${limit}`;
    for (const b of boxes) b.disabled = !b.dataset.ok || (limit !== null && n >= limit && !b.checked);
  };
  for (const row of rows) {
    const box = el("input", {type: "checkbox", value: String(row.household)});
    if (enabled(row)) box.dataset.ok = "1";
    box.checked = chosen.has(row.household);
    box.addEventListener("change", count);
    boxes.push(box);
    const tr = el("tr", kin(row) ? {class: "kin"} : {}, el("td", {}, box),
                  el("td", {text: String(row.household)}));
    for (const c of columns) tr.append(el("td", {class: c.num ? "num" : "", text: c.value(row)}));
    body.append(tr);
  }
  table.append(body);
  count();
  return {node: el("div", {}, counter, el("div", {class: "scroll"}, table)),
          chosen: () => boxes.filter((b) => b.checked).map((b) => Number(b.value))};
}

function render(pending) {
  const box = $("decision");
  const o = pending.observation;
  const name = pending.decision;
  const parts = [el("h2", {text: t(`decision_${name}`)}), el("p", {class: "help", text: t(`help_${name}`)})];
  const yes = (b) => (b ? "✓" : "");
  let submit = null;
  if (name === "proposal" || name === "team_listing") {
    const kin = new Set(o.kin_of_cadre || []);
    const friend = new Set(o.friend_of_cadre || []);
    const eligible = new Set(o.eligible);
    const rows = o.estimate.map((e, h) => ({household: h, estimate: e}));
    parts.push(el("p", {text: `${label("poverty_line")}${money(o.poverty_line)} ${t("yuan")} · ` +
                             (o.quota === null ? t("no_quota") : `${label("quota")}${o.quota}`)}));
    if (o.own_household !== undefined && o.own_household !== null) {
      parts.push(el("p", {text: `${label("your_household")}${o.own_household}`}));
    }
    const proposed = new Set(o.chair_list || []);
    if (o.chair_list) parts.push(el("p", {class: "counter", text: t("chair_proposes", {n: o.chair_list.length})}));
    const list = checklist(rows, [
      {title: t("estimate"), num: true, value: (r) => money(r.estimate)},
      {title: t("kin_of_cadre"), value: (r) => kin.has(r.household) ? "◆" : friend.has(r.household) ? "◇" : ""},
      {title: t("eligible"), value: (r) => yes(eligible.has(r.household))},
    ], {limit: o.quota, enabled: (r) => eligible.has(r.household), kin: (r) => kin.has(r.household),
        chosen: proposed});
    parts.push(list.node);
    submit = () => ({list: list.chosen()});
  } else if (name === "diversion") {
    parts.push(el("p", {text: `${label("risk")}${Math.round((o.risk || 0) * 100)}% · ${label("sanction")}${o.sanction}`}));
    const out = el("output", {text: "0%"});
    const slider = el("input", {type: "range", min: "0", max: "1", step: "0.01", value: "0"});
    slider.addEventListener("input", () => { out.textContent = `${Math.round(slider.value * 100)}%`; });
    parts.push(el("label", {}, el("span", {text: t("share")}), slider, out));
    submit = () => ({share: Number(slider.value)});
  } else if (name === "aid") {
    parts.push(el("p", {text: `${label("fund")}${money(o.fund)} ${t("yuan")}`}));
    const inputs = [];
    const total = el("p", {class: "counter"});
    const sum = () => {
      const s = inputs.reduce((a, i) => a + (Number(i.value) || 0), 0);
      total.textContent = `${label("total")}${money(s)} ${t("yuan")}`;
    };
    const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", {text: t("household")}),
      el("th", {text: t("estimate")}), el("th", {text: t("kin_of_cadre")}), el("th", {text: t("amount")}))));
    const body = el("tbody");
    for (const r of o.households) {
      const input = el("input", {type: "number", min: "0", step: "1", value: String(Math.round(r.rule))});
      input.addEventListener("input", sum);
      inputs.push(input);
      body.append(el("tr", r.kin_of_cadre ? {class: "kin"} : {}, el("td", {text: String(r.household)}),
        el("td", {class: "num", text: money(r.estimate)}),
        el("td", {text: r.kin_of_cadre ? "◆" : r.friend_of_cadre ? "◇" : ""}), el("td", {}, input)));
    }
    table.append(body);
    sum();
    parts.push(total, el("div", {class: "scroll"}, table));
    submit = () => ({amounts: inputs.map((i) => Math.max(0, Number(i.value) || 0))});
  } else if (name === "visits") {
    const requested = new Map(o.requests.map((r) => [r.household, r]));
    const registered = new Set(o.registered);
    const known = new Set(o.known);
    const kin = new Set(o.kin_of_cadre);
    const rows = [...Array(o.households).keys()].map((h) => ({household: h}));
    parts.push(el("p", {text: `${label("capacity")}${o.capacity}`}));
    const list = checklist(rows, [
      {title: t("requested"), value: (r) => requested.has(r.household) ? "!" : ""},
      {title: t("registered"), value: (r) => yes(registered.has(r.household))},
      {title: t("known"), value: (r) => yes(known.has(r.household))},
      {title: t("shown"), num: true, value: (r) => o.shown ? money(o.shown[r.household]) : "–"},
    ], {limit: o.capacity, kin: (r) => kin.has(r.household)});
    parts.push(list.node);
    submit = () => ({visit: list.chosen()});
  } else if (name === "challenge") {
    const list = checklist(o.visited, [
      {title: t("estimate"), num: true, value: (r) => money(r.estimate)},
      {title: t("registered"), value: (r) => yes(r.registered)},
      {title: t("eligible"), value: (r) => yes(r.eligible)},
    ], {});
    parts.push(el("p", {text: `${label("poverty_line")}${money(o.poverty_line)} ${t("yuan")}`}));
    parts.push(el("p", {text: t("act_on")}), list.node);
    submit = () => ({act: list.chosen()});
  } else if (name === "complaint") {
    parts.push(el("p", {text: `${label("poverty_line")}${money(o.poverty_line)} ${t("yuan")}`}));
    const list = checklist(o.households, [
      {title: t("own_income"), num: true, value: (r) => money(r.own_income)},
      {title: t("listed"), value: (r) => yes(r.listed)},
      {title: t("trust"), num: true, value: (r) => r.trust === null ? "–" : r.trust.toFixed(2)},
    ], {enabled: (r) => !r.listed && r.eligible});
    parts.push(el("p", {text: t("complain")}), list.node);
    submit = () => ({complain: list.chosen()});
  } else if (name === "report") {
    const listed = new Set(o.listed);
    const kin = new Set(o.kin);
    const mine = new Set(o.households);
    const rows = [...Array(o.households_in_village).keys()].filter((h) => !mine.has(h))
      .map((h) => ({household: h}));
    const list = checklist(rows, [
      {title: t("listed"), value: (r) => yes(listed.has(r.household))},
      {title: t("your_kin"), value: (r) => kin.has(r.household) ? "◆" : ""},
    ], {kin: (r) => kin.has(r.household)});
    parts.push(el("p", {text: t("report_tick")}), list.node);
    submit = () => ({report: list.chosen()});
  } else if (name === "kin_request") {
    const list = checklist(o.households, [
      {title: t("income_month"), num: true, value: (r) => money(r.income)},
      {title: t("need"), num: true, value: (r) => money(r.need)},
    ], {enabled: (r) => r.income < r.need, chosen: new Set(o.households.filter((r) => r.income < r.need).map((r) => r.household))});
    parts.push(el("p", {text: t("ask_kin")}), list.node);
    submit = () => ({ask: list.chosen()});
  } else if (name === "share") {
    parts.push(el("p", {text: `${label("poverty_line")}${money(o.poverty_line)} ${t("yuan")}`}));
    const list = checklist(o.findings, [
      {title: t("measured"), num: true, value: (r) => money(r.estimate)},
      {title: t("registered"), value: (r) => yes(r.registered)},
    ], {chosen: new Set(o.findings.map((r) => r.household))});
    parts.push(el("p", {text: t("share_tick")}), list.node);
    submit = () => ({share: list.chosen()});
  } else if (name === "accounts") {
    const rows = o.cadres.map((c) => ({...c, household: c.seat}));
    parts.push(el("p", {text: `${label("audit_budget")}${o.budget}`}));
    const list = checklist(rows, [
      {title: t("times_caught"), num: true, value: (r) => String(r.times_caught)},
      {title: t("kin_listed"), num: true, value: (r) => String(r.kin_listed)},
    ], {limit: o.budget, idTitle: t("cadre_seat")});
    parts.push(el("p", {text: t("examine_tick")}), list.node);
    submit = () => ({examine: list.chosen()});
  } else if (name === "audit") {
    parts.push(el("p", {text: `${label("reported_spent")}${money(o.reported_spent_12)} ${t("yuan")}`}));
    const a = el("button", {type: "button", text: t("audit_yes")});
    const b = el("button", {type: "button", class: "secondary", text: t("audit_no")});
    a.addEventListener("click", () => send(pending, {audit: true}));
    b.addEventListener("click", () => send(pending, {audit: false}));
    parts.push(el("div", {}, a, b));
  }
  if (submit) {
    const button = el("button", {type: "button", id: "send", text: t("send")});
    button.addEventListener("click", () => send(pending, submit()));
    parts.push(button);
  }
  box.replaceChildren(...parts);
}

start();
