// The waitlist page's figures, kept fresh while it is open (the page works without this).
(function () {
  const page = document.querySelector("[data-status-url]");
  if (!page) return;
  const url = page.dataset.statusUrl;
  const set = (name, text) => {
    const field = page.querySelector(`[data-field="${name}"]`);
    if (field && field.textContent !== text) field.textContent = text;
  };
  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const status = await response.json();
      if (status.position) set("position", "#" + status.position.toLocaleString("en"));
      set("referrals", String(status.referrals));
      set("boost", String(status.boost));
      if (status.admitted) window.location.reload();
    } catch (error) {
      // Offline for a moment: the next tick tries again.
    }
  }
  setInterval(refresh, 15000);
})();
