// village_sim classroom: what the participant's page and the instructor's screen share.
"use strict";

const $ = (id) => document.getElementById(id);
let T = {};  // the page's messages, in its language

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function t(key, values = {}) {
  let text = T[key] || key;
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

// The messages of `lang` into T and every [data-t] element; the title from `titleKey`.
async function fetchTexts(lang, titleKey) {
  T = await (await fetch(`/api/texts?lang=${encodeURIComponent(lang)}`)).json();
  if (lang === "zh") {
    // the packaged Chinese font before any Chinese text: text drawn while it loads can stay
    // in boxes (Chromium, on a laptop with no Chinese font of its own)
    try { await document.fonts.load('1em "VillageSim CJK SC"', "中文"); } catch (e) { /* the system's fonts */ }
  }
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("title").textContent = t(titleKey);
  document.title = t(titleKey);
}

function seatText(seat) {
  if (!seat) return t("no_seat");
  const role = t(`role_${seat.role}`);
  if (seat.role === "household") return `${role} ${seat.households.join(", ")}`;
  if (seat.role === "auditor") return role;
  return `${role} ${seat.index}` + (seat.role === "cadre" && seat.index === 0 ? ` (${t("chair")})` : "");
}

// A number of yuan in the page's language's convention (Vietnamese 4.000, Chinese 4,000).
function money(x) {
  if (x === null || x === undefined) return "–";
  const locale = {vi: "vi-VN", zh: "zh-CN"}[document.documentElement.lang] || "en-US";
  return Math.round(x).toLocaleString(locale);
}

// A label and its colon, as the page's language writes it (Chinese: full width).
function label(key) {
  return t(key) + (document.documentElement.lang === "zh" ? "：" : ": ");
}
