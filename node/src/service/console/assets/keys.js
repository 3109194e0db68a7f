// The Salus console's key script: lets a page act with the user's key without the key leaving
// this browser. The console's key module (keys.wasm, built from the same Rust as the node's
// signature checks and the client's sealed boxes) signs a dry run or opens a sealed box; only a
// signature is ever sent, and only to this node. A key is held in this page's memory, wiped when
// the user presses Forget or leaves the page.
"use strict";

(function () {
  const signForms = document.querySelectorAll("form[data-keys-sign]");
  const openForms = document.querySelectorAll("form[data-keys-open]");
  if (signForms.length === 0 && openForms.length === 0) return;
  if (!("WebAssembly" in window)) return; // the forms stay hidden; the page names the CLI

  const SIGNATURE_LIFETIME_MS = 2 * 60 * 1000;
  let loading = null;

  function load(url) {
    if (!loading) {
      loading = fetch(url)
        .then((response) => {
          if (!response.ok) throw new Error("the key module did not load (" + response.status + ")");
          return response.arrayBuffer();
        })
        .then((bytes) => WebAssembly.instantiate(bytes, {}))
        .then((result) => result.instance.exports);
      loading.catch(() => {
        loading = null;
      });
    }
    return loading;
  }

  function hexBytes(text, length, what) {
    const digits = text.trim().replace(/^0x/i, "");
    if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2 !== 0) {
      throw new Error(what + ": not hex");
    }
    if (length !== undefined && digits.length !== length * 2) {
      throw new Error(what + ": " + length * 2 + " hex digits expected, " + digits.length + " given");
    }
    const bytes = new Uint8Array(digits.length / 2);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(digits.substr(i * 2, 2), 16);
    return bytes;
  }

  function hex(bytes) {
    return "0x" + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  // Calls export `name` with `inputs` (byte arrays, each passed as a pointer, or pointer and
  // length when `withLength`) followed by `numbers`; the answer's bytes, or throws its reason.
  // Every input and the answer are wiped and freed in the module.
  function call(exports, name, inputs, numbers) {
    const placed = [];
    try {
      const args = [];
      for (const [bytes, withLength] of inputs) {
        const pointer = exports.alloc(bytes.length) >>> 0;
        placed.push([pointer, bytes.length]);
        new Uint8Array(exports.memory.buffer, pointer, bytes.length).set(bytes);
        args.push(pointer);
        if (withLength) args.push(bytes.length);
      }
      const packed = exports[name](...args, ...numbers);
      const pointer = Number(packed >> 32n);
      const length = Number(packed & 0xffffffffn);
      const answer = new Uint8Array(exports.memory.buffer, pointer, length).slice();
      exports.dealloc(pointer, length);
      if (answer[0] !== 0) throw new Error(new TextDecoder().decode(answer.subarray(1)));
      return answer.subarray(1);
    } finally {
      for (const [pointer, length] of placed) exports.dealloc(pointer, length);
    }
  }

  // The wallet key the user gave `form`: from a key file and its password when one is chosen
  // (opened by the module, with the CLI's limits on the key derivation), else from the hex
  // field. The fields are emptied as they are read.
  async function readWalletKey(exports, form) {
    const fileField = form.querySelector("[data-keys-file]");
    const passwordField = form.querySelector("[data-keys-password]");
    const hexField = form.querySelector("[data-key]");
    if (fileField && fileField.files.length > 0) {
      const bytes = new Uint8Array(await fileField.files[0].arrayBuffer());
      const password = new TextEncoder().encode(passwordField.value);
      passwordField.value = "";
      try {
        return call(exports, "open_key_file", [[bytes, true], [password, true]], []);
      } finally {
        bytes.fill(0);
        password.fill(0);
      }
    }
    const key = hexBytes(hexField.value, 32, "the key");
    hexField.value = "";
    return key;
  }

  function setStatus(form, text) {
    const status = form.querySelector("[data-keys-status]");
    if (status) status.textContent = text;
  }

  // Puts a console page's <main> content (fetched as a fragment) into `target`, without its
  // heading: the page it lands in has its own.
  function place(target, html) {
    const parsed = new DOMParser().parseFromString(html, "text/html");
    const heading = parsed.body.querySelector("h1");
    if (heading) heading.remove();
    target.replaceChildren(...parsed.body.childNodes);
  }

  // A form that signs dry runs: each of its targets (`data-targets`, element ids) names the
  // call to sign (`data-input`) and the console address that runs it with the signature
  // (`data-action`); the node's answer is placed in the target.
  for (const form of signForms) {
    const field = form.querySelector("[data-key]");
    const targets = form.dataset.targets.split(/\s+/).map((id) => document.getElementById(id));
    let key = null;

    function forget() {
      if (key) key.fill(0);
      key = null;
    }

    // Signs `input` for `target`'s address (`after`: the page of the answer) and shows the
    // answer; whether the node answered.
    async function signAndShow(target, input, after) {
      const exports = await load(form.dataset.module);
      if (!key) {
        setStatus(form, "Opening the key…");
        key = await readWalletKey(exports, form);
      }
      const expires = Date.now() + SIGNATURE_LIFETIME_MS;
      const contract = hexBytes(form.dataset.contract, 20, "the contract");
      const signature = call(
        exports,
        "sign_call",
        [[key, false], [contract, false], [hexBytes(input, undefined, "the call"), true]],
        [BigInt(form.dataset.chainId), BigInt(expires)],
      );
      const signer = hex(call(exports, "key_address", [[key, false]], []));
      const url = new URL(target.dataset.action, window.location.href);
      url.searchParams.set("signer", signer);
      url.searchParams.set("expires", String(expires));
      url.searchParams.set("signature", hex(signature));
      if (after !== undefined) url.searchParams.set("after", after);
      url.searchParams.set("fragment", "main");
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      place(target, await response.text());
      setStatus(
        form,
        response.ok
          ? "Signed as " + signer + ". The key is held in this page until you forget it."
          : "The node did not answer a signed query (below).",
      );
      return response.ok;
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      setStatus(form, "Signing…");
      (async () => {
        for (const target of targets) {
          if (!(await signAndShow(target, target.dataset.input))) break;
        }
      })().catch((error) => {
        forget();
        setStatus(form, error.message);
      });
    });
    for (const target of targets) {
      target.addEventListener("click", (event) => {
        const next = event.target.closest("[data-keys-next]");
        if (!next) return;
        if (!key) {
          setStatus(form, "Give the key again to sign the next page.");
          field.focus();
          return;
        }
        signAndShow(target, next.dataset.input, next.dataset.after).catch((error) => setStatus(form, error.message));
      });
    }
    form.querySelector("[data-keys-forget]").addEventListener("click", () => {
      forget();
      field.value = "";
      form.querySelector("[data-keys-password]").value = "";
      form.querySelector("[data-keys-file]").value = "";
      setStatus(form, "The key is forgotten.");
    });
    window.addEventListener("pagehide", forget);
    form.hidden = false;
  }

  for (const form of openForms) {
    const keyField = form.querySelector("[data-key]");
    const fileField = form.querySelector("[data-keys-box]");
    const aadField = form.querySelector("[data-keys-aad]");
    const output = document.getElementById(form.dataset.target);

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      setStatus(form, "Opening…");
      output.replaceChildren();
      (async () => {
        const file = fileField.files[0];
        if (!file) throw new Error("choose the sealed box's file");
        const exports = await load(form.dataset.module);
        const sealed = new Uint8Array(await file.arrayBuffer());
        const aad = hexBytes(aadField.value, undefined, "the associated data");
        const kind = form.querySelector("input[name=key-kind]:checked").value;
        const fileChosen = form.querySelector("[data-keys-file]").files.length > 0;
        if (kind === "x25519" && fileChosen) {
          throw new Error("a key file holds a wallet key: choose “a wallet key”, or give the X25519 secret in hex");
        }
        const secret = kind === "wallet" ? await readWalletKey(exports, form) : hexBytes(keyField.value, 32, "the key");
        keyField.value = "";
        let plaintext;
        try {
          plaintext =
            kind === "wallet"
              ? call(
                  exports,
                  "open_with_wallet_key",
                  [[secret, false], [hexBytes(form.dataset.genesis, 32, "the genesis hash"), false], [sealed, true], [aad, true]],
                  [],
                )
              : call(exports, "open_with_x25519", [[secret, false], [sealed, true], [aad, true]], []);
        } finally {
          secret.fill(0);
        }
        let text = new TextDecoder("utf-8", { fatal: false }).decode(plaintext);
        try {
          text = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // not JSON: shown as it is
        }
        plaintext.fill(0);
        const heading = document.createElement("h2");
        heading.textContent = "Opened in this browser";
        const pre = document.createElement("pre");
        pre.className = "mono";
        pre.tabIndex = 0;
        pre.dataset.keysPlaintext = "";
        pre.textContent = text;
        output.replaceChildren(heading, pre);
        setStatus(form, "Opened: " + plaintext.length + " bytes. Nothing was sent to the node.");
      })().catch((error) => setStatus(form, error.message));
    });
    form.hidden = false;
  }
})();
