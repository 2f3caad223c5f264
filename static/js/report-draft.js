/*
 * Keeps what a clerk types into the monthly report form in the browser's storage, so that a
 * session that expired while typing loses nothing: after logging in again the same page is
 * opened and the typed values are put back, with a notice. The stored copy is removed once
 * the server confirms a save (the page after a save carries data-draft-saved).
 *
 * The form works without this file. No inline script or style: the site runs under a strict
 * Content-Security-Policy.
 */
(function () {
  "use strict";

  var MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
  var SKIPPED = { csrfmiddlewaretoken: true, action: true };

  function storage() {
    try {
      var probe = "__report_draft_probe__";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      try {
        return window.sessionStorage;
      } catch (ignored) {
        return null;
      }
    }
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      if (!element.name || SKIPPED[element.name] || element.disabled) {
        return false;
      }
      if (element.type === "hidden") {
        return element.name === "version";
      }
      return element.type !== "submit" && element.type !== "button";
    });
  }

  function read(form) {
    var values = {};
    fields(form).forEach(function (element) {
      values[element.name] = element.value;
    });
    return values;
  }

  function differs(form, values) {
    return fields(form).some(function (element) {
      return (
        element.name !== "version" &&
        Object.prototype.hasOwnProperty.call(values, element.name) &&
        values[element.name] !== element.value
      );
    });
  }

  function write(form, values, keepVersion) {
    fields(form).forEach(function (element) {
      if (keepVersion && element.name === "version") {
        return;
      }
      if (Object.prototype.hasOwnProperty.call(values, element.name)) {
        element.value = values[element.name];
      }
    });
  }

  function time(stamp) {
    var date = new Date(stamp);
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return (date.getMonth() + 1) + "月" + date.getDate() + "日 " + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function notice(form, text, buttons) {
    var box = document.createElement("div");
    box.className = "report-draft-notice";
    box.setAttribute("role", "status");
    var message = document.createElement("span");
    message.textContent = text;
    box.appendChild(message);
    buttons.forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = spec.label;
      button.addEventListener("click", function () {
        spec.action();
        box.parentNode.removeChild(box);
      });
      box.appendChild(button);
    });
    form.parentNode.insertBefore(box, form);
  }

  function start(form) {
    var store = storage();
    var key = form.getAttribute("data-draft-key");
    if (!store || !key) {
      return;
    }
    if (form.hasAttribute("data-draft-saved")) {
      store.removeItem(key);
    }
    var version = form.elements.version ? form.elements.version.value : "";
    var saved = null;
    try {
      saved = JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      saved = null;
    }
    if (saved && (Date.now() - saved.at > MAX_AGE_MS || !differs(form, saved.values))) {
      store.removeItem(key);
      saved = null;
    }
    if (saved && !fields(form).length) {
      saved = null; // the report is read-only now (submitted or approved)
    }
    if (saved) {
      var discard = {
        label: "放弃这些内容",
        action: function () {
          store.removeItem(key);
          window.location.reload();
        },
      };
      if (saved.values.version === version) {
        write(form, saved.values, false);
        notice(form, "已恢复您在 " + time(saved.at) + " 填写但尚未保存的内容，请核对后保存。", [discard]);
      } else {
        notice(
          form,
          "您在 " + time(saved.at) + " 填写的内容尚未保存，而这份报告此后已被保存过新版本（页面显示的是最新版本）。",
          [
            {
              label: "用我未保存的内容覆盖页面",
              action: function () {
                write(form, saved.values, true);
              },
            },
            discard,
          ]
        );
      }
    }

    var timer = null;
    function keep() {
      window.clearTimeout(timer);
      timer = null;
      try {
        store.setItem(key, JSON.stringify({ at: Date.now(), values: read(form) }));
      } catch (error) {
        /* storage full or refused: the form still works */
      }
    }
    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(keep, 400);
    }
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    form.addEventListener("submit", keep);
  }

  function init() {
    var forms = document.querySelectorAll("form[data-draft-key]");
    Array.prototype.forEach.call(forms, start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
