// Marks the page as scripted before it is drawn, so the NHS styles for scripted components apply.
// A file, not an inline script: the pages' Content-Security-Policy allows scripts from this service only.
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("nhsuk-frontend-supported");
}
