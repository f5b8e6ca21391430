// The tester's console: plays the EHR. Every text from a request or a record goes in with textContent; the only
// HTML inserted is a card's detail, rendered and sanitised by the service (/console/markdown).
"use strict";

const $ = (sel) => document.querySelector(sel);
const CRD = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information";
const urls = document.body.dataset;
const drugs = JSON.parse($("#drugs").textContent);
const services = JSON.parse($("#services").textContent);
const state = { patients: [], patient: null, server: null, responses: [], lastOutcome: null, orderIndex: 0,
                call: null, created: [] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

async function getJson(url, options) {
  const resp = await fetch(url, options);
  const body = await resp.json().catch(() => ({}));
  return { status: resp.status, body };
}

// ---- patients ------------------------------------------------------------------------------------------------

async function loadPatients() {
  const { body } = await getJson(urls.patients);
  state.patients = body;
  renderPatients();
  const params = new URLSearchParams(location.search);
  const wanted = params.get("patient");
  if (wanted) {
    const p = state.patients.find((x) => x.patientId === wanted || x.key === wanted);
    if (!p) return showError(`No bundled patient ${wanted}`);
    selectPatient(p);
    if (params.get("sign") === "1") await sign(0);
  }
}

function renderPatients() {
  const q = $("#search").value.trim().toLowerCase();
  const body = $("#patients tbody");
  body.replaceChildren();
  for (const p of state.patients) {
    const hay = [p.name, p.drug, p.payer, p.expected, p.key, p.description].join(" ").toLowerCase();
    if (q && !hay.includes(q)) continue;
    body.append(el("tr", {},
      el("td", { text: p.name, title: p.description }), el("td", { text: p.age ?? "?" }),
      el("td", { text: p.payer }), el("td", { text: p.drug }), el("td", { text: p.expected }),
      el("td", {}, el("button", { type: "button", text: "Select", "aria-label": `Select ${p.name}`,
                                  onclick: () => selectPatient(p) }))));
  }
}

function selectPatient(p) {
  state.patient = p;
  state.server = null;
  state.responses = [];
  state.created = [];
  state.lastOutcome = null;
  $("#patient").hidden = false;
  $("#patient-title").textContent = `${p.name} (${p.age ?? "?"} y)`;
  $("#patient-detail").textContent = `${p.payer} — ${p.description} — expected: ${p.expected}`;
  renderOrders(p.orders);
}

function renderOrders(orders) {
  const box = $("#orders");
  box.replaceChildren();
  orders.forEach((drug, i) => box.append(el("button", { type: "button", class: "sign", text: `Sign ${drug}`,
                                                         onclick: () => sign(i) })));
}

function useServer(event) {
  event.preventDefault();
  const drug = drugs[Number($("#fhir-drug").value)];
  state.patient = null;
  state.responses = [];
  state.created = [];
  state.lastOutcome = null;
  state.server = { base: $("#fhir-base").value.replace(/\/$/, ""), token: $("#fhir-token").value,
                   patient: $("#fhir-patient").value.trim(), user: $("#fhir-user").value.trim(), drug };
  $("#patient").hidden = false;
  $("#patient-title").textContent = `Patient ${state.server.patient}`;
  $("#patient-detail").textContent = `${state.server.base} — ${drug.name} under ${drug.policy}`;
  renderOrders([drug.name]);
}

function serverRequest(hook) {
  const s = state.server;
  const order = { resourceType: "MedicationRequest", id: `console-${crypto.randomUUID().slice(0, 8)}`,
                  status: "draft", intent: "order", subject: { reference: `Patient/${s.patient}` },
                  authoredOn: new Date().toISOString().slice(0, 10),
                  medicationCodeableConcept: { coding: [s.drug.coding], text: s.drug.name } };
  const ref = `MedicationRequest/${order.id}`;
  const context = { patientId: s.patient };
  if (hook === "order-dispatch") Object.assign(context, { dispatchedOrders: [ref], performer: s.user || "Organization/console" });
  else context.draftOrders = { resourceType: "Bundle", type: "collection", entry: [{ resource: order }] };
  if (hook === "order-select") context.selections = [ref];
  if (s.user && hook !== "order-dispatch") context.userId = s.user;
  const req = { hook, hookInstance: crypto.randomUUID(), fhirServer: s.base, context };
  if (s.token) req.fhirAuthorization = { access_token: s.token, token_type: "Bearer", expires_in: 300,
                                         scope: "patient/*.read user/*.read", subject: "pa-advisor-console" };
  if (hook === "order-dispatch") req.prefetch = { dispatchedOrder: order };
  return { service: services[hook], request: req };
}

// ---- signing ---------------------------------------------------------------------------------------------------

async function sign(orderIndex) {
  showError("");
  state.orderIndex = orderIndex;
  const hook = $("#hook").value;
  let call;
  if (state.server) {
    call = serverRequest(hook);
  } else {
    const query = new URLSearchParams({ patient: state.patient.key, hook, order: orderIndex });
    const { status, body } = await getJson(`${urls.request}?${query}`);
    if (status !== 200) return showError(`Could not build the request (${status})`);
    call = body;
    if (state.responses.length) {  // answers kept in this console session, as the EHR would hold them
      const entries = call.request.prefetch.attestations.entry;
      for (const r of state.responses) entries.push({ resource: r });
    }
  }
  await send(call);
}

async function send(call) {
  state.call = call;
  const started = performance.now();
  const { status, body } = await getJson(`${urls.hooks}${call.service}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(call.request) });
  const ms = performance.now() - started;
  await render(call.request, status, body, ms);
}

// ---- acting on a card: the documentation launch and the suggestions --------------------------------------------

function draftOrder(ref) {
  const entries = state.call?.request?.context?.draftOrders?.entry || [];
  return entries.map((e) => e.resource).find((r) => `${r.resourceType}/${r.id}` === ref)
    || state.call?.request?.prefetch?.dispatchedOrder;
}

function launch(link) {
  // The console plays the EHR launching the DTR app: it reads the appContext as the DTR reference app does.
  const ctx = Object.fromEntries(decodeURIComponent(link.appContext || "").split("&").map((p) => p.split("=")));
  return openForm(ctx.context, ctx.questionnaire, draftOrder(ctx.order));
}

async function accept(card, suggestion) {
  // As an EHR: feedback first (acceptedSuggestions), then the actions — an update replaces the draft order and
  // the order is signed again; a create is kept by the EHR (listed here).
  await getJson(`${urls.hooks}${state.call.service}/feedback`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ feedback: [{ card: card.uuid, outcome: "accepted", outcomeTimestamp: new Date().toISOString(),
                                        acceptedSuggestions: [{ id: suggestion.uuid }] }] }) });
  const request = structuredClone(state.call.request);
  let updated = false;
  for (const action of suggestion.actions || []) {
    if (action.type === "update") {
      for (const entry of request.context.draftOrders?.entry || []) {
        if (entry.resource.resourceType === action.resource.resourceType && entry.resource.id === action.resource.id) {
          entry.resource = action.resource;
          updated = true;
        }
      }
    } else if (action.type === "create") {
      state.created.push(action.resource);
    }
  }
  if (updated) {
    request.hookInstance = crypto.randomUUID();
    return send({ service: state.call.service, request });
  }
  renderCreated();
}

function renderCreated() {
  const box = $("#created");
  box.hidden = !state.created.length;
  box.replaceChildren(el("h3", { text: "Added by accepted suggestions" }), el("ul", {}, ...state.created.map((r) =>
    el("li", { text: `${r.resourceType}: ${r.code?.text || r.description || r.code?.coding?.[0]?.code || ""}` }))));
}

function outcomeOf(card) {
  return card?.extension?.["pa-advisor.evaluation"]?.outcome;
}

async function render(req, status, body, ms) {
  $("#result").hidden = false;
  $("#timing").textContent = `HTTP ${status} in ${ms.toFixed(0)} ms`;
  $("#raw-request").textContent = JSON.stringify(req, null, 2);
  $("#raw-response").textContent = JSON.stringify(body, null, 2);
  const cards = $("#cards");
  cards.replaceChildren();
  $("#coverage").replaceChildren();
  $("#dtr-actions").replaceChildren();
  $("#criteria").replaceChildren();
  $("#dtr-form").hidden = true;
  if (status !== 200) {
    const issue = body?.issue?.[0];
    cards.append(el("p", { class: "card critical", text: `Error ${status}: ${issue?.diagnostics || issue?.code || ""}` }));
    return;
  }
  if (!body.cards?.length) cards.append(el("p", { class: "none", text: "No cards: no policy governs this order for this coverage." }));
  for (const card of body.cards || []) cards.append(await cardView(card));
  const first = (body.cards || [])[0];
  const outcome = outcomeOf(first);
  if (state.lastOutcome && outcome) {
    const box = $("#before-after");
    box.hidden = false;
    box.replaceChildren(el("p", { text: `Before: ${state.lastOutcome} → after: ${outcome}` }));
  }
  state.lastOutcome = outcome || state.lastOutcome;
  for (const action of body.systemActions || []) coverageView(action);
  if (first) criteriaView(first.extension?.["pa-advisor.evaluation"]);
}

async function cardView(card) {
  const box = el("article", { class: `card ${card.indicator}`, "aria-label": `${card.indicator} card` });
  box.append(el("h3", { text: card.summary }));
  box.append(el("p", { class: "source", text: `Source: ${card.source?.label || ""}` }));
  if (card.detail) {
    const { status, body } = await getJson(urls.markdown, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ markdown: card.detail }) });
    const detail = el("div", { class: "detail" });
    if (status === 200) detail.innerHTML = body.html;  // sanitised by the service (nh3)
    else detail.textContent = card.detail;
    box.append(detail);
  }
  const links = (card.links || []).filter((l) => /^https?:\/\//i.test(l.url));
  for (const link of links.filter((l) => l.type === "smart")) {
    box.append(el("button", { type: "button", class: "launch", text: link.label, onclick: () => launch(link) }));
  }
  const absolute = links.filter((l) => l.type !== "smart");
  if (absolute.length) {
    box.append(el("ul", { class: "links" }, ...absolute.map((l) =>
      el("li", {}, el("a", { href: l.url, target: "_blank", rel: "noopener noreferrer", text: l.label })))));
  }
  if (card.suggestions?.length) {
    box.append(el("h4", { text: "Suggestions (accept one)" }), el("ul", { class: "suggestions" },
      ...card.suggestions.map((s) => el("li", {}, el("span", { text: s.label }), " ",
        el("button", { type: "button", class: "accept", text: "Accept", onclick: () => accept(card, s) })))));
  }
  return box;
}

const WORDS = {
  covered: { covered: "covered", "not-covered": "not covered", conditional: "covered under conditions" },
  "pa-needed": { "auth-needed": "prior authorization needed", "no-auth": "no prior authorization needed",
                 satisfied: "prior authorization already satisfied" },
  "doc-needed": { clinical: "clinical documentation needed", admin: "administrative documentation needed",
                  both: "clinical and administrative documentation needed" },
};

function coverageView(action) {
  const info = (action.resource?.extension || []).find((e) => e.url === CRD);
  if (!info) return;
  const parts = Object.fromEntries(info.extension.map((e) => [e.url, e]));
  const lines = [];
  for (const key of ["covered", "pa-needed", "doc-needed"]) {
    if (parts[key]) lines.push(WORDS[key][parts[key].valueCode] || parts[key].valueCode);
  }
  const box = el("div", { class: "coverage" }, el("h3", { text: "Coverage information (system action)" }),
                 el("p", { text: lines.join("; ") + "." }));
  if (parts.reason) box.append(el("p", { text: parts.reason.valueCodeableConcept?.text || "" }));
  const q = parts.questionnaire?.valueCanonical;
  if (q) {
    box.append(el("p", { text: `Questionnaire: ${q}` }));
    $("#dtr-actions").append(el("button", { type: "button", id: "complete-doc", text: "Complete documentation",
      onclick: () => openForm(parts["coverage-assertion-id"].valueString, q, action.resource) }));
  }
  $("#coverage").append(box);
}

function criteriaView(ev) {
  if (!ev) return;
  const rows = ev.criteria.map((c) => el("tr", { class: c.status },
    el("td", { text: c.source || "" }), el("td", { text: c.text }), el("td", { text: c.status }),
    el("td", { text: (c.evidence || []).map((e) => e.text + (e.date ? ` (${e.date})` : "")).join("; ") }),
    el("td", { text: c.note || "" })));
  $("#criteria").append(el("p", { text: `${ev.policy.id} — ${ev.pathway} criteria — outcome: ${ev.outcome}` }),
    el("table", {}, el("thead", {}, el("tr", {}, ...["Policy item", "Criterion", "Status", "Evidence", "Note"]
      .map((h) => el("th", { text: h })))), el("tbody", {}, ...rows)));
}

// ---- the documentation loop (DTR) -----------------------------------------------------------------------------

async function openForm(context, canonical, order) {
  // As a DTR app is launched: the assertion id, the form, and the order it is about (a pre-filled form is given
  // only with the assertion's patient).
  const { status, body } = await getJson(urls.package, {
    method: "POST", headers: { "Content-Type": "application/fhir+json" },
    body: JSON.stringify({ resourceType: "Parameters", parameter: [{ name: "context", valueString: context },
                                                                   { name: "questionnaire", valueCanonical: canonical },
                                                                   { name: "order", resource: order }] }) });
  const bundle = body.parameter?.find((p) => p.name === "PackageBundle")?.resource;
  if (status !== 200 || !bundle) return showError(`The questionnaire could not be fetched (${status})`);
  const q = bundle.entry.find((e) => e.resource.resourceType === "Questionnaire").resource;
  const form = $("#dtr-form");
  form.replaceChildren(el("h3", { text: q.title }));
  form.append(...q.item.map(itemView));
  form.append(el("button", { type: "submit", text: "Save answers and sign again" }));
  form.hidden = false;
  form.onsubmit = (event) => { event.preventDefault(); submitForm(q, canonical, context); };
  form.onchange = () => applyEnableWhen(q);
  applyEnableWhen(q);
  form.querySelector("input, select")?.focus();
}

function itemView(item) {
  const id = `q-${item.linkId}`;
  const label = `${item.prefix ? item.prefix + " " : ""}${item.text}`;
  if (item.type === "group") {
    return el("fieldset", { "data-link": item.linkId }, el("legend", { text: label }), ...item.item.map(itemView));
  }
  if (item.type === "display") return el("p", { class: "from-record", text: item.text, "data-link": item.linkId });
  const initial = (item.initial || [])[0] || {};
  let input;
  if (item.type === "boolean") {
    input = el("select", { id }, el("option", { value: "", text: "—" }), el("option", { value: "true", text: "Yes" }),
               el("option", { value: "false", text: "No" }));
    if ("valueBoolean" in initial) input.value = String(initial.valueBoolean);
  } else if (item.type === "integer" || item.type === "decimal") {
    input = el("input", { id, type: "number", step: item.type === "integer" ? "1" : "any" });
    const v = initial.valueInteger ?? initial.valueDecimal;
    if (v !== undefined) input.value = String(v);
  } else if (item.type === "choice") {
    input = el("select", { id }, el("option", { value: "", text: "—" }),
               ...item.answerOption.map((o, i) => el("option", { value: String(i), text: o.valueCoding.display })));
    const code = initial.valueCoding?.code;
    const at = item.answerOption.findIndex((o) => o.valueCoding.code === code);
    if (at >= 0) input.value = String(at);
  } else if (item.type === "attachment") {
    input = el("input", { id, type: "file" });
  } else {
    input = el("input", { id });
  }
  const unit = item.extension?.find((e) => e.url.endsWith("questionnaire-unit"))?.valueCoding?.display;
  const wrap = el("div", { class: "item", "data-link": item.linkId },
                  el("label", { for: id, text: label + (unit ? ` (${unit})` : "") + (item.required ? " *" : "") }), input);
  for (const child of item.item || []) wrap.append(itemView(child));
  return wrap;
}

function* allItems(items) {
  for (const item of items || []) { yield item; yield* allItems(item.item); }
}

function answerOf(item) {
  const input = document.getElementById(`q-${item.linkId}`);
  if (!input || input.closest("[hidden]")) return null;
  if (item.type === "boolean") return input.value === "" ? null : { valueBoolean: input.value === "true" };
  if (item.type === "integer") return input.value === "" ? null : { valueInteger: parseInt(input.value, 10) };
  if (item.type === "decimal") return input.value === "" ? null : { valueDecimal: parseFloat(input.value) };
  if (item.type === "choice") return input.value === "" ? null : { valueCoding: item.answerOption[Number(input.value)].valueCoding };
  return null;  // attachments are read when the form is submitted
}

function applyEnableWhen(q) {
  for (const item of allItems(q.item)) {
    if (!item.enableWhen) continue;
    const on = item.enableWhen.some((cond) => {
      const other = [...allItems(q.item)].find((i) => i.linkId === cond.question);
      const answer = other && answerOf(other);
      if (!answer) return false;
      if ("answerBoolean" in cond) return answer.valueBoolean === cond.answerBoolean;
      if (cond.answerCoding) return answer.valueCoding?.code === cond.answerCoding.code;
      return false;
    });
    const node = document.querySelector(`[data-link="${CSS.escape(item.linkId)}"]`);
    if (node) node.hidden = !on;
  }
}

function readFile(input) {
  const file = input?.files?.[0];
  if (!file) return Promise.resolve(null);
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ valueAttachment: { contentType: file.type || "application/octet-stream",
                                                       title: file.name, data: String(reader.result).split(",")[1] } });
    reader.readAsDataURL(file);
  });
}

async function responseItems(items) {
  const out = [];
  for (const item of items || []) {
    if (item.type === "display") continue;
    if (item.type === "group") {
      const children = await responseItems(item.item);
      if (children.length) out.push({ linkId: item.linkId, item: children });
      continue;
    }
    const input = document.getElementById(`q-${item.linkId}`);
    const answer = item.type === "attachment" ? (input.closest("[hidden]") ? null : await readFile(input)) : answerOf(item);
    if (answer) out.push({ linkId: item.linkId, answer: [answer] });
  }
  return out;
}

async function submitForm(q, canonical, context) {
  const subject = state.server ? state.server.patient : state.patient.patientId;
  const qr = { resourceType: "QuestionnaireResponse", status: "completed", questionnaire: canonical,
               subject: { reference: `Patient/${subject}` }, authored: new Date().toISOString(),
               item: await responseItems(q.item) };
  // Only a practitioner's answers decide a criterion: the console answers as the signing user.
  const user = state.server ? state.server.user : state.patient.userId;
  if (user) qr.author = { reference: user };
  if (state.server) {  // saved to the EHR's FHIR server, where the next hook call reads it
    const headers = { "Content-Type": "application/fhir+json" };
    if (state.server.token) headers.Authorization = `Bearer ${state.server.token}`;
    const resp = await fetch(`${state.server.base}/QuestionnaireResponse`, { method: "POST", headers, body: JSON.stringify(qr) })
      .catch((e) => ({ status: 0, statusText: String(e) }));
    if (resp.status !== 200 && resp.status !== 201) return showError(`The FHIR server did not save the answers (${resp.status})`);
  } else {
    qr.id = `console-${crypto.randomUUID().slice(0, 8)}`;
    state.responses.push(qr);
  }
  await sign(state.orderIndex);
}

// ---- wiring ------------------------------------------------------------------------------------------------------

function selectTab(server) {
  $("#tab-fixtures").setAttribute("aria-selected", String(!server));
  $("#tab-server").setAttribute("aria-selected", String(server));
  $("#fixtures").hidden = server;
  $("#server").hidden = !server;
}

$("#tab-fixtures").addEventListener("click", () => selectTab(false));
$("#tab-server").addEventListener("click", () => selectTab(true));
$("#search").addEventListener("input", renderPatients);
$("#server").addEventListener("submit", useServer);
for (const button of document.querySelectorAll("button.copy")) {
  button.addEventListener("click", () => navigator.clipboard?.writeText($(`#${button.dataset.copy}`).textContent));
}
loadPatients().catch((e) => showError(`Could not load the patients: ${e}`));
