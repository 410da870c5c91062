// Tree explorer: open a node to fetch one page of its invitees as JSON; "load
// more" fetches the next page. Builds DOM with textContent only (names are user text).
(() => {
  const root = document.querySelector("[data-testid=explorer]");
  if (!root) return;
  const status = root.querySelector(".explorer-status");
  const number = new Intl.NumberFormat();

  const say = (text) => { if (status) status.textContent = text; };

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status}`);
    return response.json();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setLabel(button, open) {
    const name = button.dataset.name || "this member";
    button.querySelector(".visually-hidden").textContent = `${open ? "Hide" : "Show"} invitees of ${name}`;
  }

  // The same markup as templates/dashboard/_explorer_node.html.
  function buildNode(data) {
    const li = el("li", "node");
    li.dataset.id = data.id;
    const row = el("div", "node-row");
    if (data.invitees > 0) {
      const button = el("button", "toggle");
      button.type = "button";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", `kids-${data.id}`);
      button.dataset.url = data.children_url;
      button.dataset.total = data.invitees;
      button.dataset.name = data.name;
      button.append(el("span", "visually-hidden"));
      setLabel(button, false);
      row.append(button);
    } else {
      const spacer = el("span", "toggle-spacer");
      spacer.setAttribute("aria-hidden", "true");
      row.append(spacer);
    }
    const link = el("a", "node-name", data.name);
    link.href = data.url;
    row.append(" ", link, " ");
    const meta = (data.join_number ? `#${number.format(data.join_number)} · ` : "") + `gen ${data.depth}`;
    row.append(el("span", "node-meta muted", meta), " ");
    row.append(data.activated ? el("span", "status activated", "active") : el("span", "status inactive", "not active"), " ");
    const figures = el("span", "node-figures");
    const figure = (title, text) => { const span = el("span", "", text); span.title = title; return span; };
    figures.append(
      figure("direct invitees", `${number.format(data.invitees)} invited`), " · ",
      figure("activated invitees", `${number.format(data.activated_invitees)} active`), " · ",
      figure("everyone below", `${number.format(data.downline)} downline`),
    );
    row.append(figures);
    li.append(row);
    if (data.invitees > 0) {
      const kids = el("ul", "tree");
      kids.id = `kids-${data.id}`;
      kids.hidden = true;
      li.append(kids);
    }
    return li;
  }

  function moreItem(url, label) {
    const li = el("li", "more");
    const button = el("button", "secondary small", label);
    button.type = "button";
    button.dataset.more = url;
    li.append(button);
    return li;
  }

  // Append one page of nodes to `list`, replacing its "load more" item.
  function addPage(list, page, total) {
    list.querySelector(":scope > li.more")?.remove();
    for (const data of page.nodes) list.append(buildNode(data));
    if (page.next) {
      const shown = list.querySelectorAll(":scope > li.node").length;
      const label = total ? `Load more (${number.format(shown)} of ${number.format(total)} shown)` : "Load more";
      list.append(moreItem(page.next, label));
    }
  }

  async function toggle(button) {
    const kids = document.getElementById(button.getAttribute("aria-controls"));
    const open = button.getAttribute("aria-expanded") === "true";
    if (open) {
      kids.hidden = true;
      button.setAttribute("aria-expanded", "false");
      setLabel(button, false);
      return;
    }
    if (!button.dataset.loaded) {
      button.disabled = true;
      say("Loading…");
      try {
        addPage(kids, await getJSON(button.dataset.url), Number(button.dataset.total));
        button.dataset.loaded = "1";
        say("");
      } catch (error) {
        say(`Could not load the invitees (${error.message}). Try again.`);
        return;
      } finally {
        button.disabled = false;
      }
    }
    kids.hidden = false;
    button.setAttribute("aria-expanded", "true");
    setLabel(button, true);
  }

  async function loadMore(button) {
    const list = button.closest("ul");
    const owner = list.id ? root.querySelector(`[aria-controls="${list.id}"]`) : null;
    button.disabled = true;
    say("Loading…");
    try {
      const before = list.querySelectorAll(":scope > li.node").length;
      addPage(list, await getJSON(button.dataset.more), owner ? Number(owner.dataset.total) : 0);
      say("");
      // Keyboard users land on the first new member, not back at the top.
      list.querySelectorAll(":scope > li.node > .node-row > .node-name")[before]?.focus();
    } catch (error) {
      button.disabled = false;
      say(`Could not load more (${error.message}). Try again.`);
    }
  }

  // Server-rendered toggles carry the name in their hidden label.
  for (const button of root.querySelectorAll("button.toggle")) {
    button.dataset.name = button.closest(".node").querySelector(".node-name").textContent;
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !root.contains(button)) return;
    if (button.classList.contains("toggle")) toggle(button);
    else if (button.dataset.more) loadMore(button);
  });

  const first = root.querySelector("[data-autoopen] button.toggle");
  if (first) toggle(first);

  // New members appear under open nodes while the page is open: every 10 s, each
  // open node whose invitees are all shown asks only for those after its last one
  // (a keyset read on (inviter, id)); at most 20 nodes per round, none in a hidden tab.
  async function watch() {
    if (!document.hidden) {
      const open = [...root.querySelectorAll('button.toggle[aria-expanded="true"][data-loaded]')];
      for (const button of open.slice(0, 20)) {
        const kids = document.getElementById(button.getAttribute("aria-controls"));
        if (!kids || kids.querySelector(":scope > li.more")) continue;
        const shown = kids.querySelectorAll(":scope > li.node");
        const last = shown.length ? shown[shown.length - 1].dataset.id : "0";
        try {
          const url = new URL(button.dataset.url, window.location.href);
          url.searchParams.set("after", last);
          const page = await getJSON(url);
          if (page.nodes.length) {
            addPage(kids, page, page.total);
            button.dataset.total = page.total;
          }
        } catch (error) {
          // The next round tries again.
        }
      }
    }
    window.setTimeout(watch, 10000);
  }
  window.setTimeout(watch, 10000);
})();
