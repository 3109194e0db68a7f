// tests/browser/checks/keys.mjs — keys in the browser: who can see the patient's data and the
// patient's accounting of disclosures, signed in the page by the console's key module, and a
// sealed box opened in the page. Every
// request the pages make is recorded, and none may carry the key, the box or what it holds.
//
// Uses the consent story (t.scenario.consent: the patient, its dev key, the refused access's
// reason) and asks the test for a sealed box (READY-FOR-SEALED-BOX: a FHIR resource sealed to
// the patient's reply key on this chain, bound to a request hash, in a file; the patient's key
// as a Salus key file and as an Ethereum keystore, with their password). Keys are given in hex
// and as files.

/** Every request `page` makes, as { method, url, headers, body }. */
function record(page) {
  const sent = [];
  page.on("request", (request) => {
    sent.push({
      method: request.method(),
      url: request.url(),
      headers: JSON.stringify(request.headers()),
      body: request.postData() ?? "",
    });
  });
  return sent;
}

/** Fails unless no request in `sent` holds any of `secrets` (in any letter case). */
function assertNeverSent(t, sent, secrets) {
  for (const request of sent) {
    const wire = `${request.method} ${request.url}\n${request.headers}\n${request.body}`.toLowerCase();
    for (const [what, secret] of secrets) {
      t.assert(!wire.includes(secret.toLowerCase()), `${what} was sent to the node: ${request.method} ${request.url}`);
    }
  }
}

export default async function check(t) {
  const story = t.scenario.consent;
  t.assert(story?.patient_dev_key, `the scenario printed no patient_dev_key: ${JSON.stringify(story)}`);
  const key = story.patient_dev_key;
  const keyDigits = key.replace(/^0x/, "");
  const sent = record(t.page);
  const box = JSON.parse(await t.ask("READY-FOR-SEALED-BOX"));
  t.assert(box.key === key, "the sealed box is not addressed to the scenario's patient");

  // The patient's page shows the form once the key script runs (it is hidden without it).
  await t.visit(story.paths.patient, null);
  await t.page.waitForSelector("form[data-keys-sign]:not([hidden])", { timeout: 10_000 });
  const submit = "form[data-keys-sign] button[type=submit]";

  // Not a key: refused in the page, nothing signed.
  await t.page.fill("#accounting-key", "0x1234");
  await t.page.click(submit);
  await t.expectText("form[data-keys-sign] [data-keys-status]", "64 hex digits expected");

  // A key that is neither the patient nor a delegate: the signature is good, the contract
  // refuses the signer, and the page says why.
  const stranger = "0x" + "7e".repeat(32);
  await t.page.fill("#accounting-key", stranger);
  await t.page.click(submit);
  await t.expectText("#who-can-see-result", "answers only the patient or a delegate in force");
  await t.page.click("form[data-keys-sign] [data-keys-forget]");

  // The patient's key: the accounting, signed in the page, with the consent changes, the
  // permitted and the denied access and the break-glass entry.
  await t.page.fill("#accounting-key", key);
  await t.page.click(submit);
  await t.expectText("#accounting-result table.accounting caption", "entries, oldest first");
  // Who can see the patient's data now: the active consent's permit for treatment, and not
  // the revoked consent.
  await t.expectText(`#who-can-see-result li[data-consent="${story.consent}"]`, "for treatment (TREAT)");
  t.assert(
    (await t.page.$$(`#who-can-see-result li[data-consent="${story.revoked_consent}"]`)).length === 0,
    "the revoked consent is listed as letting someone see the data",
  );
  await t.expectText("#accounting-result tr[data-outcome=refused] td.reason", story.refused_reason);
  await t.expectText("#accounting-result td", "Consent created");
  await t.expectText("#accounting-result td", "Break-glass access");
  await t.expectText("form[data-keys-sign] [data-keys-status]", `Signed as ${story.patient.toLowerCase()}`);
  t.assert((await t.page.inputValue("#accounting-key")) === "", "the key field still holds the key after signing");
  await t.audit("consent-accounting");

  // The FHIR export of the same page, through the signature the page made (valid two minutes).
  const exportLink = await t.page.getAttribute("#accounting-result a[href*='accounting.fhir.json']", "href");
  const exported = await t.page.request.get(t.base + exportLink);
  t.assert(exported.status() === 200, `the signed FHIR export answered HTTP ${exported.status()}`);
  const bundle = await exported.json();
  t.assert(
    bundle.resourceType === "Bundle" && bundle.entry?.length >= 6,
    `the signed FHIR export is not a Bundle of the entries: ${JSON.stringify(bundle).slice(0, 300)}`,
  );
  t.assert(
    sent.some((request) => request.url.includes("/accounting?") && request.url.includes("signature=0x")),
    "no signed accounting request was made",
  );

  // Forgotten, then given as an Ethereum keystore file (as `salus key export` writes it): a
  // wrong password is refused in the page; the right one signs again.
  await t.page.click("form[data-keys-sign] [data-keys-forget]");
  await t.expectText("form[data-keys-sign] [data-keys-status]", "The key is forgotten");
  await t.page.setInputFiles("#accounting-key-file", box.keystore);
  await t.page.fill("#accounting-key-password", "not the password");
  await t.page.click(submit);
  await t.expectText("form[data-keys-sign] [data-keys-status]", "wrong password", { timeout: 30_000 });
  await t.page.fill("#accounting-key-password", box.password);
  await t.page.click(submit);
  await t.expectText("form[data-keys-sign] [data-keys-status]", `Signed as ${story.patient.toLowerCase()}`, { timeout: 30_000 });
  t.assert((await t.page.inputValue("#accounting-key-password")) === "", "the password field still holds the password");
  await t.expectText("#accounting-result tr[data-outcome=refused] td.reason", story.refused_reason);

  assertNeverSent(t, sent, [
    ["the patient's key", keyDigits],
    ["the stranger's key", stranger.slice(2)],
    ["the key file's password", box.password],
  ]);

  // A sealed box opened in the page.
  const opener = await t.newPage();
  const openerSent = record(opener);
  await t.visit(`/ui/open?aad=${box.aad}`, "open-sealed-box", { page: opener });
  await opener.waitForSelector("form[data-keys-open]:not([hidden])", { timeout: 10_000 });
  t.assert((await opener.inputValue("#open-aad")) === box.aad, "the request hash is not filled in");
  await opener.setInputFiles("#open-box", box.file);
  const status = "form[data-keys-open] [data-keys-status]";
  const open = "form[data-keys-open] button[type=submit]";

  // Another account's key does not open it.
  await opener.fill("#open-key", box.other_key);
  await opener.click(open);
  await t.expectText(status, "does not open", { page: opener });

  // The right key with other associated data does not open it either.
  await opener.fill("#open-aad", "0x" + "00".repeat(32));
  await opener.fill("#open-key", box.key);
  await opener.click(open);
  await t.expectText(status, "does not open", { page: opener });

  // The request hash, and the key as a Salus key file with its password: the resource, shown in
  // the page.
  await opener.fill("#open-aad", box.aad);
  await opener.setInputFiles("#open-key-file", box.key_file);
  await opener.fill("#open-key-password", box.password);
  await opener.click(open);
  await t.expectText("[data-keys-plaintext]", box.secret_text, { page: opener });
  await t.expectText("[data-keys-plaintext]", '"resourceType": "Observation"', { page: opener });
  await t.expectText(status, "Nothing was sent to the node", { page: opener });
  await t.audit("open-sealed-box-opened", { page: opener });

  t.assert(
    openerSent.every((request) => request.method === "GET" && request.body === ""),
    `the opening page sent a request with a body: ${JSON.stringify(openerSent.filter((r) => r.body))}`,
  );
  assertNeverSent(t, openerSent, [
    ["the recipient's key", box.key.slice(2)],
    ["the other key", box.other_key.slice(2)],
    ["the key file's password", box.password],
    ["the opened record", box.secret_text],
  ]);
}
