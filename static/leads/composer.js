// The lead page's template picker. Without JS its select and "Use template" are the reply form's:
// the button sends what was written with the template picked, and the server keeps words of the
// person's own. With htmx this file gives them back to the picker, whose "Use template" refills the
// composer in place (picking alone changes nothing: arrow keys go through the list): it asks before
// replacing what was written, but not when the composer still holds the template's draft or
// nothing; on Cancel the picker goes back to the template in use.

// On this page, and in each composer htmx brings.
const pickerOnItsOwn = () => {
  const picker = document.getElementById("template-picker");
  if (!picker || !window.htmx) return;
  for (const control of picker.querySelectorAll("[form]")) {
    control.removeAttribute("form");
    control.removeAttribute("formaction"); // htmx would send the picker there
  }
};
pickerOnItsOwn();
document.addEventListener("htmx:load", pickerOnItsOwn);

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
