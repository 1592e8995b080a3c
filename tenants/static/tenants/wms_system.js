// The warehouse pages show only the chosen system's fields (decided by the server from
// ?wms_system=): choosing another system reloads the page for it. Without this script the
// choice is still honoured when the form is submitted.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.name.endsWith("wms_system")) return;
  const url = new URL(window.location.href);
  url.searchParams.set("wms_system", select.value);
  window.location.assign(url.toString());
});
