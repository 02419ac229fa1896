// Connection admin: show only the setup section of the chosen type (without JS, every section shows).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("connection_form");
  const sections = document.querySelectorAll("fieldset.setup-section");
  if (!form || !sections.length) return;
  const show = () => {
    const chosen = form.querySelector('[name="type"]:checked') || form.querySelector('select[name="type"]');
    sections.forEach((s) => { s.hidden = Boolean(chosen) && !s.classList.contains(`setup-${chosen.value}`); });
  };
  form.addEventListener("change", (event) => { if (event.target.name === "type") show(); });
  show();
});
