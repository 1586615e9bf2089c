/* 服务反馈: the details counter, the store's brands and shops, photo previews, one submit.
   The form works without it; this only makes it quicker to fill. When the server refuses
   something (a photo, a field), the answer replaces the form but the photos already chosen
   stay chosen: a file input cannot be refilled by a page, so the form is sent with fetch. */
(function () {
  "use strict";

  function setup(form, carried) {
    var details = form.querySelector("textarea[name=details]");
    var counter = form.querySelector("[data-counter]");
    if (details && counter) {
      var count = function () { counter.textContent = details.value.length; };
      details.addEventListener("input", count);
      count();
    }

    // Only the chosen store's brands and shops; a choice from another store is cleared.
    var store = form.querySelector("select[name=store]");
    var tagged = form.querySelectorAll("select[name=brand], select[name=shop]");
    var filterByStore = function () {
      tagged.forEach(function (select) {
        Array.prototype.forEach.call(select.options, function (option) {
          var stores = option.getAttribute("data-stores");
          var here = !stores || stores.split(" ").indexOf(store.value) >= 0;
          option.hidden = !here;
          option.disabled = !here;
          if (!here && option.selected) select.value = "";
        });
      });
    };
    if (store) {
      store.addEventListener("change", filterByStore);
      filterByStore();
    }

    // Photos: choices add up (a phone picks one at a time), each shown, each removable.
    var input = form.querySelector("input[type=file][name=photos]");
    var previews = form.querySelector("[data-previews]");
    var countLabel = form.querySelector("[data-photo-count]");
    var warning = form.querySelector("[data-photo-warning]");
    var box = form.querySelector("[data-photo-box]");
    var again = form.querySelector("[data-photos-again]");
    var maxPhotos = parseInt(form.getAttribute("data-max-photos"), 10) || 6;
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var canRebuild = typeof DataTransfer === "function";
    var chosen = carried || [];

    // The server names each refused photo first in its own error line.
    var refused = Array.prototype.map.call(form.querySelectorAll("[data-photo-error]"), function (p) {
      return p.textContent.trim();
    });
    var wasRefused = function (file) {
      return refused.some(function (text) { return text.indexOf(file.name) === 0; });
    };

    var render = function () {
      previews.innerHTML = "";
      var problems = [];
      chosen.forEach(function (file, index) {
        var item = document.createElement("li");
        item.className = "weui-uploader__file";
        item.setAttribute("data-preview", file.name);
        var img = document.createElement("img");
        img.className = "weui-uploader__file__thumb h5-thumb";
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        item.appendChild(img);
        if (wasRefused(file)) {
          item.classList.add("weui-uploader__file_status");
          item.setAttribute("data-refused", "");
        }
        if (maxBytes && file.size > maxBytes) {
          item.classList.add("weui-uploader__file_status");
          problems.push(form.getAttribute("data-msg-too-big").replace("{file}", file.name));
        }
        if (item.classList.contains("weui-uploader__file_status")) {
          var mark = document.createElement("div");
          mark.className = "weui-uploader__file-content";
          mark.innerHTML = '<i class="weui-icon-warn" aria-hidden="true"></i>';
          item.appendChild(mark);
        }
        if (canRebuild) {
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "h5-thumb__remove";
          remove.setAttribute("aria-label", form.getAttribute("data-msg-remove") + " " + file.name);
          remove.textContent = "×";
          remove.addEventListener("click", function () {
            chosen.splice(index, 1);
            sync();
          });
          item.appendChild(remove);
        }
        previews.appendChild(item);
      });
      if (chosen.length > maxPhotos) problems.push(form.getAttribute("data-msg-too-many"));
      countLabel.textContent = chosen.length;
      box.hidden = canRebuild && chosen.length >= maxPhotos;
      warning.textContent = problems.join(" ");
      warning.hidden = problems.length === 0;
      if (again) again.hidden = chosen.length > 0;
    };

    var sync = function () {
      if (canRebuild) {
        var transfer = new DataTransfer();
        chosen.forEach(function (file) { transfer.items.add(file); });
        input.files = transfer.files;
      }
      render();
    };

    if (input && previews) {
      input.addEventListener("change", function () {
        var picked = Array.prototype.slice.call(input.files);
        chosen = canRebuild ? chosen.concat(picked) : picked;
        sync();
      });
      if (chosen.length) sync();
    }

    // 填写联系方式后才可以提交: the button waits for a name and a phone, then for the answer
    // (one submission: the server refuses a repeat of the same form anyway).
    var button = form.querySelector("[data-submit]");
    var contact = form.querySelectorAll("input[name=contact_name], input[name=contact_phone]");
    var ready = function () {
      var filled = Array.prototype.every.call(contact, function (field) {
        return field.value.trim() !== "";
      });
      button.disabled = !filled;
      button.classList.toggle("weui-btn_disabled", !filled);
    };
    if (button) {
      contact.forEach(function (field) { field.addEventListener("input", ready); });
      ready();
    }
    form.addEventListener("submit", function (event) {
      if (button) {
        button.disabled = true;
        button.classList.add("weui-btn_loading");
      }
      if (!canRebuild || !window.fetch || !window.DOMParser) return; // a plain POST
      event.preventDefault();
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Feedback-Form": "fetch" },
      }).then(function (response) {
        var location = response.headers.get("X-Location");
        if (location) {
          window.location.assign(location);
          return null;
        }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.querySelector("[data-feedback-form]");
          if (!fresh) {
            form.submit(); // not the form again (an error page): let the browser show it
            return;
          }
          fresh = document.importNode(fresh, true);
          form.replaceWith(fresh);
          setup(fresh, chosen);
          var first = fresh.querySelector("[role=alert]:not([hidden])");
          if (first) first.scrollIntoView({ block: "center" });
        });
      }).catch(function () {
        form.submit();
      });
    });
  }

  var form = document.querySelector("[data-feedback-form]");
  if (form) setup(form, null);
})();
