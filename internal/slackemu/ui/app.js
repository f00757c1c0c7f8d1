// Slack emulator web UI: polls /ui/state and renders conversations, Block Kit, the App
// Home tab and modals. Every interaction goes back to the emulator, which turns it into the
// same Socket Mode envelope Slack would send.
"use strict";

const state = {
  user: localStorage.getItem("slackemu.user") || "",
  channel: localStorage.getItem("slackemu.channel") || "",
  tab: "channel", // or "home"
  version: null,
  data: null,
  modalKey: "",
  homeKey: "",
  messagesKey: "",
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "html") e.innerHTML = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function post(path, body) {
  try {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const j = await r.json();
    if (!j.ok && j.error) clientError(j.error);
    poll(true);
    return j;
  } catch (e) {
    clientError(String(e));
    return { ok: false, error: String(e) };
  }
}

function clientError(text) {
  const box = $("#client-errors");
  box.append(el("div", { class: "system-error client-error" }, text));
  while (box.children.length > 3) box.firstChild.remove();
}

// ---------- mrkdwn ----------

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// Slack escapes exactly &, < and > in message text.
function decodeEntities(s) {
  return String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userLabel(id) {
  const u = (state.data && state.data.users || []).find((x) => x.id === id);
  if (!u) return id;
  return u.display_name || u.real_name || u.name;
}

function channelLabel(id) {
  const c = (state.data && state.data.channels || []).find((x) => x.id === id);
  return c ? c.name : id;
}

function renderToken(tok) {
  const [target, label] = splitOnce(tok, "|");
  if (target.startsWith("@")) return `<span class="mention">@${esc(label ? decodeEntities(label) : userLabel(target.slice(1)))}</span>`;
  if (target.startsWith("#")) return `<span class="mention">#${esc(label ? decodeEntities(label) : channelLabel(target.slice(1)))}</span>`;
  if (target.startsWith("!")) {
    const word = target.slice(1);
    if (["here", "channel", "everyone"].includes(word)) return `<span class="mention">@${word}</span>`;
    return esc(decodeEntities(label || word));
  }
  const url = decodeEntities(target);
  const text = esc(decodeEntities(label || target));
  if (/^(https?:|mailto:)/i.test(url)) return `<a href="${esc(url)}" target="_blank" rel="noopener">${text}</a>`;
  return text;
}

function splitOnce(s, sep) {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

// Slack shows :shortcodes: as emoji. These are the ones pathbot sends plus a few common ones;
// an unknown name stays as typed, as it does in Slack.
const EMOJI = {
  "+1": "👍", "-1": "👎", alarm_clock: "⏰", arrow_forward: "▶️", books: "📚", bulb: "💡",
  busts_in_silhouette: "👥", calendar: "📅", chart_with_upwards_trend: "📈", dart: "🎯",
  envelope: "✉️", eyes: "👀", fast_forward: "⏩", fire: "🔥", heart: "❤️",
  heavy_check_mark: "✔️", leftwards_arrow_with_hook: "↩️", memo: "📝", outbox_tray: "📤",
  pager: "📟", rocket: "🚀", see_no_evil: "🙈", seedling: "🌱", smile: "😄", sparkles: "✨",
  star: "⭐", straight_ruler: "📏", tada: "🎉", thinking_face: "🤔", trophy: "🏆", warning: "⚠️",
  wave: "👋", white_check_mark: "✅", white_large_square: "⬜", x: "❌", zzz: "💤",
};

// emojify turns known :shortcodes: in escaped text into emoji; hold keeps the markup away
// from the bold and italic rules that run afterwards.
function emojify(s, hold) {
  return s.replace(/:([a-z0-9_+-]+):/g, (m, name) =>
    Object.hasOwn(EMOJI, name) ? hold(`<span class="emoji" title=":${name}:">${EMOJI[name]}</span>`) : m);
}

function mrkdwn(text) {
  const slots = [];
  const hold = (html) => `\u0000${slots.push(html) - 1}\u0000`;
  let s = String(text || "");
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre>${esc(decodeEntities(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${esc(decodeEntities(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, tok) => hold(renderToken(tok)));
  s = esc(decodeEntities(s));
  s = emojify(s, hold);
  s = s.replace(/(^|[\s(>])\*([^*\n]+)\*(?=$|[\s).,!?:;<])/g, "$1<b>$2</b>");
  s = s.replace(/(^|[\s(>])_([^_\n]+)_(?=$|[\s).,!?:;<])/g, "$1<i>$2</i>");
  s = s.replace(/(^|[\s(>])~([^~\n]+)~(?=$|[\s).,!?:;<])/g, "$1<s>$2</s>");
  s = s.split("\n").map((line) => line.startsWith("&gt; ") ? `<blockquote>${line.slice(5)}</blockquote>` : line).join("\n");
  s = s.replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => slots[Number(i)]);
}

function textObj(t) {
  if (!t) return "";
  if (t.type === "mrkdwn") return mrkdwn(t.text);
  return t.emoji === false ? esc(t.text) : emojify(esc(t.text), (html) => html);
}

// ---------- Block Kit ----------

function renderBlocks(blocks, ctx) {
  const wrap = el("div", { class: "blocks" });
  for (const b of blocks || []) {
    try {
      wrap.append(renderBlock(b, ctx));
    } catch (e) {
      wrap.append(el("div", { class: "block-unknown" }, `[${b.type}: ${e}]`));
    }
  }
  return wrap;
}

function renderBlock(b, ctx) {
  switch (b.type) {
    case "section": {
      const main = el("div", { class: "section-main" });
      if (b.text) main.append(el("div", { class: "text", html: textObj(b.text) }));
      if (b.fields) main.append(el("div", { class: "block-fields" }, b.fields.map((f) => el("div", { html: textObj(f) }))));
      const sec = el("div", { class: "block block-section", dataset: { blockId: b.block_id } }, main);
      if (b.accessory) sec.append(renderElement(b.accessory, b, ctx));
      return sec;
    }
    case "header":
      return el("div", { class: "block block-header", html: esc(b.text && b.text.text) });
    case "divider":
      return el("hr", { class: "block block-divider" });
    case "context":
      return el("div", { class: "block block-context" }, (b.elements || []).map((e) =>
        e.type === "image" ? el("img", { src: e.image_url, alt: e.alt_text, title: e.alt_text }) : el("span", { html: textObj(e) })));
    case "image":
      return el("figure", { class: "block block-image" },
        b.title ? el("figcaption", {}, b.title.text) : null,
        el("img", { src: b.image_url, alt: b.alt_text, title: b.alt_text }));
    case "actions":
      return el("div", { class: "block block-actions", dataset: { blockId: b.block_id } }, (b.elements || []).map((e) => renderElement(e, b, ctx)));
    case "input":
      return renderInput(b, ctx);
    case "markdown":
      return el("div", { class: "block block-markdown", html: mrkdwn(b.text) });
    case "rich_text":
      return el("div", { class: "block block-rich-text" }, richText(b));
    default:
      return el("div", { class: "block block-unknown" }, `[${b.type} block]`);
  }
}

function richText(b) {
  const out = [];
  const walk = (n) => {
    if (!n) return;
    if (n.type === "text") out.push(n.text);
    else if (n.type === "link") out.push(n.text || n.url);
    else if (n.type === "user") out.push("@" + userLabel(n.user_id));
    else if (n.type === "emoji") out.push(`:${n.name}:`);
    (n.elements || []).forEach(walk);
  };
  walk(b);
  return out.join("");
}

function optionsOf(e) {
  const opts = [...(e.options || [])];
  for (const g of e.option_groups || []) opts.push(...(g.options || []));
  return opts;
}

function act(ctx, actionId, value) {
  return post("/ui/action", { user: state.user, surface: ctx.surface, channel: ctx.channel, ts: ctx.ts, action_id: actionId, value: value || "" });
}

function confirmed(e) {
  if (!e.confirm) return true;
  return window.confirm(`${e.confirm.title.text}\n\n${e.confirm.text.text}`);
}

// renderElement draws an interactive element. In modal input blocks the value is kept for
// submission; elsewhere (and for dispatch_action inputs) a change is a block action.
function renderElement(e, block, ctx, inInput) {
  const data = { actionId: e.action_id, blockId: block.block_id, type: e.type };
  const dispatch = !inInput || block.dispatch_action;
  const onChange = (value) => { if (dispatch && confirmed(e)) act(ctx, e.action_id, value); };
  const selected = ctx.stateFor ? ctx.stateFor(block.block_id, e.action_id) : null;
  switch (e.type) {
    case "button":
      return el("button", {
        type: "button", class: `block-button ${e.style || ""}`.trim(), dataset: data,
        onclick: () => {
          if (!confirmed(e)) return;
          if (e.url) window.open(e.url, "_blank", "noopener");
          act(ctx, e.action_id, "");
        },
      }, e.text ? e.text.text : "button");
    case "static_select":
    case "external_select":
    case "overflow": {
      const cls = e.type === "overflow" ? "block-overflow" : "block-select";
      const current = selected && selected.selected_option ? selected.selected_option.value : (e.initial_option || {}).value;
      const sel = el("select", { class: cls, dataset: data, onchange: (ev) => onChange(ev.target.value) },
        el("option", { value: "" }, e.type === "overflow" ? "⋯" : (e.placeholder ? e.placeholder.text : "Select…")),
        optionsOf(e).map((o) => el("option", { value: o.value, selected: o.value === current }, o.text.text)));
      return sel;
    }
    case "multi_static_select": {
      const cur = new Set(((selected && selected.selected_options) || e.initial_options || []).map((o) => o.value));
      return el("select", { class: "block-select", multiple: true, dataset: data,
        onchange: (ev) => onChange([...ev.target.selectedOptions].map((o) => o.value).join(",")) },
        optionsOf(e).map((o) => el("option", { value: o.value, selected: cur.has(o.value) }, o.text.text)));
    }
    case "users_select":
    case "conversations_select":
    case "channels_select": {
      const items = e.type === "users_select"
        ? (state.data.users || []).filter((u) => !u.is_bot).map((u) => [u.id, u.real_name])
        : (state.data.channels || []).filter((c) => e.type === "conversations_select" || c.kind === "channel").map((c) => [c.id, c.kind === "im" ? c.name : "#" + c.name]);
      const key = { users_select: "selected_user", conversations_select: "selected_conversation", channels_select: "selected_channel" }[e.type];
      const cur = selected ? selected[key] : (e.initial_user || e.initial_conversation || e.initial_channel);
      return el("select", { class: "block-select", dataset: data, onchange: (ev) => onChange(ev.target.value) },
        el("option", { value: "" }, e.placeholder ? e.placeholder.text : "Select…"),
        items.map(([v, t]) => el("option", { value: v, selected: v === cur }, t)));
    }
    case "datepicker": {
      const cur = selected ? selected.selected_date : e.initial_date;
      return el("input", { type: "date", class: "block-datepicker", dataset: data, value: cur || "", onchange: (ev) => onChange(ev.target.value) });
    }
    case "timepicker": {
      const cur = selected ? selected.selected_time : e.initial_time;
      return el("input", { type: "time", class: "block-timepicker", dataset: data, value: cur || "", onchange: (ev) => onChange(ev.target.value) });
    }
    case "radio_buttons":
    case "checkboxes": {
      const multi = e.type === "checkboxes";
      const cur = new Set(multi
        ? ((selected && selected.selected_options) || e.initial_options || []).map((o) => o.value)
        : [((selected && selected.selected_option) || e.initial_option || {}).value]);
      const name = `${block.block_id}-${e.action_id}`;
      const box = el("div", { class: `block-${e.type}`, dataset: data });
      for (const o of e.options || []) {
        box.append(el("label", {},
          el("input", { type: multi ? "checkbox" : "radio", name, value: o.value, checked: cur.has(o.value),
            onchange: () => onChange([...box.querySelectorAll("input:checked")].map((i) => i.value).join(",")) }),
          " ", el("span", { html: textObj(o.text) })));
      }
      return box;
    }
    case "plain_text_input":
    case "email_text_input":
    case "url_text_input":
    case "number_input": {
      const cur = selected ? selected.value : e.initial_value;
      const attrs = { class: "block-text-input", dataset: data, placeholder: e.placeholder ? e.placeholder.text : null,
        maxlength: e.max_length || null, value: cur || "" };
      if (e.multiline) {
        const ta = el("textarea", { ...attrs, rows: 4 });
        ta.value = cur || "";
        return ta;
      }
      const input = el("input", { ...attrs, type: { email_text_input: "email", url_text_input: "url", number_input: "number" }[e.type] || "text" });
      if (block.dispatch_action) input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); onChange(input.value); } });
      return input;
    }
    case "image":
      return el("img", { src: e.image_url, alt: e.alt_text, class: "accessory-image", width: 64, height: 64 });
    default:
      return el("span", { class: "block-unknown" }, `[${e.type}]`);
  }
}

function renderInput(b, ctx) {
  const err = ctx.errors && ctx.errors[b.block_id];
  return el("div", { class: "block block-input", dataset: { blockId: b.block_id } },
    el("label", {}, b.label ? b.label.text : "", b.optional ? el("span", { class: "hint" }, " (optional)") : null),
    renderElement(b.element || {}, b, ctx, true),
    b.hint ? el("div", { class: "hint" }, b.hint.text) : null,
    err ? el("div", { class: "field-error" }, err) : null);
}

// collectValues reads a modal's input elements into block_id → action_id → value.
function collectValues(root) {
  const values = {};
  for (const box of root.querySelectorAll(".block-input")) {
    const blockId = box.dataset.blockId;
    const field = box.querySelector("[data-action-id]");
    if (!field) continue;
    const actionId = field.dataset.actionId;
    let v;
    if (field.tagName === "SELECT" && field.multiple) v = [...field.selectedOptions].map((o) => o.value);
    else if (field.tagName === "DIV") {
      const checked = [...field.querySelectorAll("input:checked")].map((i) => i.value);
      v = field.dataset.type === "checkboxes" ? checked : (checked[0] || "");
    } else v = field.value;
    values[blockId] = { [actionId]: v };
  }
  return values;
}

// ---------- rendering ----------

function renderSidebar(d) {
  const apps = $("#sidebar-apps");
  const chans = $("#sidebar-channels");
  apps.replaceChildren();
  chans.replaceChildren();
  for (const c of d.channels || []) {
    const isIM = c.kind === "im";
    const a = el("a", {
      href: "#", id: `channel-${c.name}`, class: "sidebar-item channel-link", dataset: { channelId: c.id },
      onclick: (ev) => { ev.preventDefault(); selectChannel(c.id); },
    }, isIM ? `💬 ${c.name}` : `# ${c.name}`);
    if (state.tab === "channel" && c.id === state.channel) a.classList.add("active");
    (isIM ? apps : chans).append(a);
  }
  $("#tab-home").classList.toggle("active", state.tab === "home");
}

function renderHeader(d) {
  $("#team-name").textContent = `${d.team.name} · Slack emulator`;
  const pill = $("#link-state");
  pill.textContent = `links: ${d.connections}`;
  pill.classList.toggle("down", d.connections === 0);
  const links = $("#header-links");
  links.replaceChildren(...Object.entries(d.links || {}).map(([k, v]) => el("a", { href: v, target: "_blank", rel: "noopener", class: "header-link" }, k)));
  const sel = $("#user-select");
  const opts = (d.users || []).filter((u) => !u.is_bot).map((u) =>
    el("option", { value: u.id, selected: u.id === state.user },
      `${u.real_name} (@${u.name})${u.is_admin ? " · admin" : ""}${u.deleted ? " · deactivated" : ""} — ${u.tz || "no tz"}${u.tz_label ? ", " + u.tz_label : ""}`));
  const key = JSON.stringify(opts.map((o) => o.textContent + o.value));
  if (sel.dataset.key !== key) {
    sel.replaceChildren(...opts);
    sel.dataset.key = key;
  }
  sel.value = state.user;
  const dev = d.dev_actions || [];
  $("#dev-panel").hidden = dev.length === 0;
  const devBox = $("#dev-actions");
  if (devBox.dataset.key !== JSON.stringify(dev)) {
    devBox.dataset.key = JSON.stringify(dev);
    devBox.replaceChildren(...dev.map((label, i) => el("button", {
      type: "button", class: "dev-action", dataset: { index: i },
      onclick: async () => {
        $("#dev-status").textContent = `${label}…`;
        const r = await post("/ui/dev-action", { index: i });
        $("#dev-status").textContent = r.ok ? `${label}: done` : `${label}: ${r.error}`;
      },
    }, label)));
  }
}

function renderMessages(d) {
  const box = $("#messages");
  const key = JSON.stringify([d.channel, d.messages, (d.users || []).length]);
  if (key === state.messagesKey) return;
  state.messagesKey = key;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  // A conversation opens at its newest message, as in Slack; later renders keep the reader's
  // place unless they were already at the bottom.
  const opened = box.dataset.channel !== d.channel;
  box.dataset.channel = d.channel || "";
  const ch = (d.channels || []).find((c) => c.id === d.channel);
  $("#conv-header").textContent = ch ? (ch.kind === "im" ? ch.name : "#" + ch.name) : "";
  box.replaceChildren(...(d.messages || []).map((m) => renderMessage(m, d)));
  if (atBottom || opened) box.scrollTop = box.scrollHeight;
}

function renderMessage(m, d) {
  const isSystem = m.source === "system";
  const cls = ["message"];
  if (m.ephemeral) cls.push("ephemeral");
  if (isSystem) cls.push("system-error");
  const author = isSystem ? "Slackbot" : (m.user === d.bot.id ? d.bot.name : userLabel(m.user));
  const time = new Date(parseFloat(m.ts) * 1000).toLocaleTimeString();
  const ctx = { surface: "message", channel: d.channel, ts: m.ts };
  return el("div", { class: cls.join(" "), dataset: { ts: m.ts, source: m.source } },
    el("div", { class: "meta" }, el("span", { class: "author" }, author), time,
      m.updated ? el("span", { class: "note" }, "(edited)") : null,
      m.ephemeral ? el("span", { class: "note only-you" }, "Only visible to you") : null),
    m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : el("div", { class: "text", html: mrkdwn(m.text) }));
}

function renderHome(d) {
  const box = $("#home-view");
  const key = d.home ? d.home.hash : "";
  if (key === state.homeKey) return;
  state.homeKey = key;
  $("#conv-header").textContent = `${d.bot.name} · Home`;
  if (!d.home) {
    box.replaceChildren(el("p", { class: "empty" }, "This app has not published a Home tab for you yet."));
    return;
  }
  box.replaceChildren(renderBlocks(d.home.blocks, { surface: "home" }));
}

function renderModal(d) {
  const overlay = $("#modal-overlay");
  const m = d.modal;
  if (!m) {
    overlay.hidden = true;
    state.modalKey = "";
    return;
  }
  const key = JSON.stringify([m.id, m.hash, m.errors, m.notice]);
  overlay.hidden = false;
  if (key === state.modalKey) return;
  // Re-render keeps what the user typed in fields the update did not touch.
  const typed = state.modalKey && state.modalKey.startsWith(`["${m.id}"`) ? collectValues($("#modal-body")) : {};
  state.modalKey = key;
  $("#modal-title").textContent = m.title;
  $("#modal-submit").textContent = m.submit || "Submit";
  $("#modal-submit").hidden = !m.submit;
  $("#modal-close").textContent = m.close || "Cancel";
  const notice = $("#modal-notice");
  notice.hidden = !m.notice;
  notice.textContent = m.notice || "";
  const stateFor = (blockId, actionId) => {
    if (typed[blockId] && typed[blockId][actionId] !== undefined) {
      const v = typed[blockId][actionId];
      return { value: v, selected_date: v, selected_time: v, selected_option: { value: v }, selected_options: [].concat(v).map((x) => ({ value: x })) };
    }
    return m.state && m.state[blockId] ? m.state[blockId][actionId] : null;
  };
  $("#modal-body").replaceChildren(renderBlocks(m.blocks, { surface: "modal", errors: m.errors || {}, stateFor }));
}

function render() {
  const d = state.data;
  if (!d) return;
  state.user = d.user || "";
  if (d.channel && state.tab === "channel") state.channel = d.channel;
  renderHeader(d);
  renderSidebar(d);
  const home = state.tab === "home";
  $("#messages").hidden = home;
  $("#home-view").hidden = !home;
  $("#composer-form").hidden = home;
  if (home) renderHome(d);
  else renderMessages(d);
  renderModal(d);
}

let polling = false;
async function poll(force) {
  if (polling && !force) return;
  polling = true;
  try {
    const q = new URLSearchParams({ user: state.user, channel: state.channel });
    if (!force && state.version !== null) q.set("since", state.version);
    const r = await fetch(`/ui/state?${q}`);
    const d = await r.json();
    state.version = d.version;
    if (!d.unchanged) {
      state.data = d;
      render();
    }
  } catch (e) {
    $("#link-state").textContent = "emulator unreachable";
    $("#link-state").classList.add("down");
  } finally {
    polling = false;
  }
}

function selectChannel(id) {
  state.tab = "channel";
  state.channel = id;
  state.messagesKey = "";
  localStorage.setItem("slackemu.channel", id);
  poll(true);
}

// ---------- wiring ----------

$("#user-select").addEventListener("change", (ev) => {
  state.user = ev.target.value;
  state.channel = "";
  state.messagesKey = state.homeKey = state.modalKey = "";
  localStorage.setItem("slackemu.user", state.user);
  if (state.tab === "home") post("/ui/home-open", { user: state.user });
  poll(true);
});

$("#tab-home").addEventListener("click", (ev) => {
  ev.preventDefault();
  state.tab = "home";
  state.homeKey = "-";
  post("/ui/home-open", { user: state.user });
  render();
});

$("#composer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("#composer");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  await post("/ui/send", { user: state.user, channel: state.channel, text });
});

$("#modal").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await post("/ui/view-submit", { user: state.user, values: collectValues($("#modal-body")) });
  if (r.view_errors) state.modalKey = "";
});

$("#modal-close").addEventListener("click", () => post("/ui/view-close", { user: state.user }));

poll(true);
setInterval(() => poll(false), 700);
