// The lead page's template picker: picking a template or "Use template" asks before replacing what
// was written, but not when the composer still holds the template's draft or nothing; on Cancel the
// picker goes back to the template in use. Without this file htmx asks every time; without JS the
// picker is a plain form.
document.addEventListener("htmx:confirm", (event) => {
  const picker = event.detail.elt;
  if (picker.id !== "template-picker") return;
  event.preventDefault();
  const reply = document.getElementById("reply-form");
  // A fresh draft is the template's text; an answer refused and sent back is the person's own.
  const draft = reply.hasAttribute("data-template-draft");
  const untouched = [reply.elements.subject, reply.elements.body].every(
    (field) => field.value === (draft ? field.defaultValue : ""),
  );
  if (untouched || window.confirm(event.detail.question)) {
    event.detail.issueRequest(true);
  } else {
    picker.reset(); // the select shows the template in use again
  }
});
