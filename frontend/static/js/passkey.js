// Passkey registration and sign-in (WebAuthn). Buttons carry data-passkey="register" or
// "sign-in" and data-options / data-verify URLs; messages go to the element named by
// aria-controls, which is a live region so screen readers hear them.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.Runda.csrfToken() },
      body: body === undefined ? "{}" : JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "Något gick fel. Försök igen.");
        return data;
      });
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: options };
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: options };
  }

  function registrationJSON(credential, nickname) {
    var r = credential.response;
    return {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type, nickname: nickname,
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        attestationObject: toB64url(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : [],
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function authenticationJSON(credential) {
    var r = credential.response;
    return {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function friendly(error) {
    if (error && error.name === "NotAllowedError") return "Inloggningen avbröts eller tog för lång tid. Försök igen.";
    if (error && error.name === "InvalidStateError") return "Den här enheten har redan en passkey för dig.";
    return (error && error.message) || "Något gick fel. Försök igen.";
  }

  function run(button) {
    var status = document.getElementById(button.getAttribute("aria-controls"));
    var say = function (text) { if (status) status.textContent = text; };
    if (!window.PublicKeyCredential) {
      say("Webbläsaren kan inte använda passkeys. Prova en annan webbläsare eller enhet.");
      return;
    }
    button.disabled = true;
    say("Följ anvisningarna från din enhet…");
    var register = button.dataset.passkey === "register";
    var nicknameField = document.getElementById("nickname");
    post(button.dataset.options)
      .then(function (options) {
        return register
          ? navigator.credentials.create(creationOptions(options))
          : navigator.credentials.get(requestOptions(options));
      })
      .then(function (credential) {
        var body = register
          ? registrationJSON(credential, nicknameField ? nicknameField.value : "")
          : authenticationJSON(credential);
        return post(button.dataset.verify, body);
      })
      .then(function (result) {
        say("Klart! Du skickas vidare…");
        window.location.assign(result.redirect || "/");
      })
      .catch(function (error) {
        say(friendly(error));
        button.disabled = false;
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-passkey]");
    if (button) {
      event.preventDefault();
      run(button);
    }
  });
})();
