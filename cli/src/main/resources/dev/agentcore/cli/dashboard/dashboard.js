// agentcore's dashboard: workspaces with their current rows, a workspace's recent rows with their
// timelines, kept live by the control plane's row changes (server-sent events read with fetch, so
// that the admin token travels in a header, never in a URL). Every value is put in the page as
// text, never as markup.
"use strict";

const TOKEN_KEY = "agentcore.adminToken";
const PAGE = 50;
const view = { offset: 0, filter: "", selected: null, names: new Set() };
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

class Unauthorized extends Error {}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token() }, cache: "no-store" });
  if (response.status === 401) {
    throw new Unauthorized(await response.text());
  }
  if (!response.ok) {
    throw new Error(path + ": " + response.status + " " + (await response.text()));
  }
  return response.json();
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null) {
      node.setAttribute(name, value);
    }
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

function since(from, to) {
  if (!from || !to) {
    return "";
  }
  const millis = new Date(to) - new Date(from);
  return (millis >= 0 ? "+" : "") + (millis / 1000).toFixed(3) + "s";
}

function stateCell(state) {
  return element("td", { class: "state state-" + state }, state);
}

async function loadPage() {
  const query = "?offset=" + view.offset + "&limit=" + PAGE + "&filter=" + encodeURIComponent(view.filter);
  const page = await api("/api/workspaces" + query);
  const body = $("workspaces");
  const rows = page.workspaces.map((entry) => {
    const name = entry.workspace.workspace;
    const row = entry.row;
    const tr = element("tr", { "data-workspace": name, class: name === view.selected ? "selected" : null },
      element("td", { class: "name" }, name),
      element("td", { class: "build" }, row ? row.build_number : ""),
      row ? stateCell(row.state) : element("td", { class: "state" }, "no build"),
      element("td", { class: "created" }, row ? time(row.created_at) : ""),
      element("td", { class: "startup" }, row ? since(row.created_at, row.ready_at) : ""),
      element("td", { class: "agent", title: entry.agents_reporting + " reporting" },
        element("span", { class: entry.agents_reporting > 0 ? "dot on" : "dot" }),
        entry.agents_reporting > 0 ? " reporting" : " -"));
    tr.addEventListener("click", () => select(name));
    return tr;
  });
  body.replaceChildren(...rows);
  view.names = new Set(page.workspaces.map((entry) => entry.workspace.workspace));
  const last = Math.min(page.offset + PAGE, page.total);
  $("range").textContent = page.total === 0 ? "no workspaces" : (page.offset + 1) + "-" + last + " of " + page.total;
  $("prev").disabled = page.offset === 0;
  $("next").disabled = last >= page.total;
}

async function loadDetails() {
  if (!view.selected) {
    return;
  }
  const answer = await api("/api/rows?workspace=" + encodeURIComponent(view.selected) + "&limit=5");
  $("details").hidden = false;
  $("details-title").textContent = answer.workspace;
  const rows = answer.rows.map((entry) => {
    const row = entry.row;
    const steps = entry.timeline.map((step) => element("li",
      { "data-state": step.state, "data-replay": String(step.replay) },
      element("span", { class: "state state-" + step.state }, step.state),
      element("span", { class: "when" }, step.at ? since(row.created_at, step.at) : "(time not recorded)"),
      step.replay ? element("span", { class: "replay" }, "replay") : ""));
    return element("div", { class: "row", "data-build": row.build_number },
      element("h3", {}, "build " + row.build_number + " ",
        element("span", { class: row.active ? "" : "retired" }, row.active ? "active" : "retired"),
        entry.build_duration_ms !== null ? " - startup took " + (entry.build_duration_ms / 1000).toFixed(3) + "s" : "",
        entry.agents_reporting > 0 ? " - agent reporting" : ""),
      element("ol", { class: "timeline" }, ...steps));
  });
  $("rows").replaceChildren(...rows);
}

function select(name) {
  view.selected = name;
  for (const tr of $("workspaces").children) {
    tr.classList.toggle("selected", tr.dataset.workspace === name);
  }
  refresh(loadDetails);
}

// At most one reload of each kind in flight, and at most one waiting: a burst of changes costs two reads.
const pending = new Map();
function refresh(load) {
  const state = pending.get(load) || { running: false, again: false };
  pending.set(load, state);
  if (state.running) {
    state.again = true;
    return;
  }
  state.running = true;
  load().catch(failed).finally(() => {
    state.running = false;
    if (state.again) {
      state.again = false;
      setTimeout(() => refresh(load), 200);
    }
  });
}

function failed(error) {
  if (error instanceof Unauthorized) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(error.message);
  } else {
    console.warn(error);
  }
}

async function follow() {
  let wait = 1000;
  while (token()) {
    try {
      const response = await fetch("/api/events", { headers: { Authorization: "Bearer " + token() }, cache: "no-store" });
      if (response.status === 401) {
        throw new Unauthorized(await response.text());
      }
      if (!response.ok || !response.body) {
        throw new Error("events: " + response.status);
      }
      live(true);
      wait = 1000;
      refresh(loadPage);
      refresh(loadDetails);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          changed(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (error instanceof Unauthorized) {
        failed(error);
        return;
      }
    }
    live(false);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10000);
  }
}

function changed(block) {
  const data = block.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
  if (!data) {
    return;
  }
  const change = JSON.parse(data);
  if (view.names.has(change.workspace) || change.workspace.includes(view.filter)) {
    refresh(loadPage);
  }
  if (change.workspace === view.selected) {
    refresh(loadDetails);
  }
}

function live(on) {
  $("live").textContent = on ? "live" : "reconnecting";
  $("live").className = on ? "live on" : "live off";
}

function showLogin(message) {
  $("board").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

function showBoard() {
  $("login").hidden = true;
  $("board").hidden = false;
  follow();
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  showBoard();
});
$("filter").addEventListener("input", () => {
  view.filter = $("filter").value;
  view.offset = 0;
  refresh(loadPage);
});
$("prev").addEventListener("click", () => {
  view.offset = Math.max(0, view.offset - PAGE);
  refresh(loadPage);
});
$("next").addEventListener("click", () => {
  view.offset += PAGE;
  refresh(loadPage);
});
// Whether an agent is reporting is not a row change: read the page again now and then.
setInterval(() => {
  if (token() && !document.hidden) {
    refresh(loadPage);
  }
}, 5000);

if (token()) {
  showBoard();
} else {
  showLogin();
}
