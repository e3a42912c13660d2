// Starts the NHS design system's scripted components, then small improvements of Waymark's own.
// Every page works without this file: it only adds convenience.
const nhsuk = document.body.dataset.nhsukScript;
if (nhsuk) {
  import(nhsuk).then((frontend) => frontend.initAll());
}

// Replay control: choosing a past review's date fills the date field and shows the record as it stood.
for (const select of document.querySelectorAll("[data-replay-jump]")) {
  select.addEventListener("change", () => {
    if (select.value) {
      select.form.requestSubmit();
    }
  });
}
