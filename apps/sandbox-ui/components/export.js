// Export: the filtered history as NDJSON or CSV from the REST export route, saved with its
// manifest. One request: the manifest (in a response header) describes exactly those bytes,
// and the browser checks their SHA-256 against it before saving both files.
import { authHeaders } from "../lib/api.js";
import { count } from "../lib/dom.js";

export const MANIFEST_HEADER = "x-cavra-export-manifest";

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

async function sha256(blob) {
  if (!globalThis.crypto?.subtle) return null; // not a secure context: not checked here
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function save(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

async function refusal(response) {
  try {
    const body = await response.json();
    if (body && body.detail) return body.detail;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP ${response.status}`;
}

/** Fetch one export; resolves to what was saved. */
async function download(url) {
  let response;
  try {
    response = await fetch(url, { headers: authHeaders() });
  } catch {
    throw new Error(`Cannot reach the export route at ${new URL(url).origin}.`);
  }
  if (!response.ok) throw new Error(`The export was refused: ${await refusal(response)}`);
  const header = response.headers.get(MANIFEST_HEADER);
  if (!header) {
    throw new Error(
      "The answer carries no readable manifest (a page on another origin needs the API to " +
        "expose the X-Cavra-Export-Manifest header).",
    );
  }
  const manifestText = fromBase64Url(header);
  const manifest = JSON.parse(manifestText);
  const blob = await response.blob();
  const digest = await sha256(blob);
  if (digest !== null && digest !== manifest.sha256) {
    throw new Error(`The download does not match its manifest (SHA-256 ${digest}).`);
  }
  save(blob, manifest.file_name);
  save(new Blob([manifestText], { type: "application/json" }), `${manifest.file_name}.manifest.json`);
  return { manifest, checked: digest !== null };
}

/** Wire the export form; `target(format)` is the URL to fetch, or a reason it cannot be. */
export function createExport(form, status, { target }) {
  const button = form.querySelector("button");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = target(form.elements.format.value);
    status.dataset.state = "";
    if (!url.startsWith("http")) {
      status.dataset.state = "error";
      status.textContent = url;
      return;
    }
    button.disabled = true;
    status.textContent = "Exporting…";
    try {
      const { manifest, checked } = await download(url);
      status.dataset.state = "done";
      status.textContent =
        `Saved ${manifest.file_name} (${count(manifest.record_count)} records) and its manifest` +
        (checked ? "; SHA-256 checked." : ".");
    } catch (error) {
      status.dataset.state = "error";
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}
