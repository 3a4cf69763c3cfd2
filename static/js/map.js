// The map of books: every book of the active embedding version drawn with regl-scatterplot (WebGL),
// coloured by genre, country or source, with hover titles, click-to-open, search + nearest neighbours, and a
// "only my shelves" filter. The container's data-drawn-points says how many points are on screen. Dragging and the
// wheel move the frame already drawn and the books are drawn again where the gesture rests (see "Pan and zoom").
(function () {
  "use strict";

  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                 "#9c755f", "#6a8fd0", "#8cd17d", "#d37295", "#b6aea4", "#6f6860"];
  var container = document.getElementById("map");
  var canvas = document.getElementById("map-canvas");
  var tooltip = document.getElementById("map-tooltip");
  var statusLine = document.getElementById("map-status");
  var legendList = document.getElementById("map-legend");
  var focusPanel = document.getElementById("map-focus");
  var searchInput = document.getElementById("map-q");
  var suggestionList = document.getElementById("map-suggestions");
  var onlyShelf = document.getElementById("only-shelf");
  var shelvedIds = JSON.parse(document.getElementById("shelved-ids").textContent);

  var data = null;          // the columns from map/points.json
  var indexById = new Map();
  var folded = null;        // folded "title author" of each book, built on first search
  var scatterplot = null;
  var colourBy = "genre";
  var withPredictions = document.getElementById("with-predictions");
  var legendFilter = null;  // the legend entry shown alone, if any
  var programmatic = false; // selections made by the page, not by a click

  function fold(text) {
    return (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setStatus(text) { statusLine.textContent = text; statusLine.hidden = !text; }

  function bookUrl(id) { return container.dataset.bookUrl.replace(/0\/$/, id + "/"); }
  function neighboursUrl(id) { return container.dataset.neighboursUrl.replace(/\/0\//, "/" + id + "/"); }

  function hasWebGL() {
    try { var probe = document.createElement("canvas"); return !!(probe.getContext("webgl2") || probe.getContext("webgl")); }
    catch (error) { return false; }
  }

  function start() {
    if (!hasWebGL() || typeof window.createScatterplot !== "function") {
      setStatus("Your browser cannot draw the map (WebGL is off or unavailable). Search still works on every other page.");
      return;
    }
    fetch(container.dataset.pointsUrl, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("The map's data could not be loaded (" + response.status + ").");
        return response.json();
      })
      .then(draw)
      .catch(function (error) { setStatus(error.message); });
  }

  function draw(points) {
    data = points;
    data.ids.forEach(function (id, i) { indexById.set(id, i); });
    if (!data.ids.length) { setStatus("No book of this version has a place on the map yet."); return; }
    var rect = container.getBoundingClientRect();
    scatterplot = window.createScatterplot({
      canvas: canvas,
      width: "auto",
      height: "auto",
      backgroundColor: "#1f2430",
      pointSize: data.ids.length > 20000 ? 2.5 : data.ids.length > 2000 ? 4 : 7,
      pointSizeSelected: 4,
      pointOutlineWidth: 2,
      pointColor: PALETTE,
      pointColorActive: "#ffffff",
      pointColorHover: "#ffffff",
      colorBy: "valueA",
      opacity: 0.85,
      opacityInactiveScale: 0.35,
      lassoInitiator: false,
      cameraIsFixed: true,  // panned and zoomed by this page (below), the frame redrawn once a gesture rests
      aspectRatio: rect.width / Math.max(rect.height, 1),
    });
    scatterplot.subscribe("drawing", frameDrawn);
    scatterplot.subscribe("pointOver", showTooltip);
    scatterplot.subscribe("pointOut", hideTooltip);
    scatterplot.subscribe("select", function (event) {
      if (!programmatic && event.points.length === 1) window.location.href = bookUrl(data.ids[event.points[0]]);
    });
    redraw().then(function () {
      container.dataset.drawnPoints = String(data.ids.length);
      setStatus(data.ids.length.toLocaleString() + " books · scroll to zoom, drag to pan, click to open");
      var focus = parseInt(container.dataset.focusBook, 10);
      if (indexById.has(focus)) focusBook(indexById.get(focus));
    });
    window.addEventListener("resize", function () {
      var box = container.getBoundingClientRect();
      scatterplot.set({ width: box.width, height: box.height, aspectRatio: box.width / Math.max(box.height, 1) });
    });
    window.bookvecMap = { scatterplot: scatterplot, ids: data.ids, indexById: indexById };
  }

  function redraw() {
    var categories = categoriesShown();
    renderLegend();
    return scatterplot.draw({ x: data.x, y: data.y, valueA: categories }, { zDataType: "categorical", preventFilterReset: true })
      .then(applyFilter);
  }

  // Genres with predictions: books without a genre from their sources take their predicted one (shown ones only).
  function categoriesShown() {
    var predicted = withPredictions && withPredictions.checked && colourBy === "genre";
    return data[predicted ? "genre_with_predictions" : colourBy];
  }

  function renderLegend() {
    var names = data[colourBy + "_names"];
    var counts = new Array(names.length).fill(0);
    categoriesShown().forEach(function (category) { counts[category] += 1; });
    legendList.innerHTML = "";
    names.forEach(function (name, category) {
      if (!counts[category]) return;
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button legend-entry";
      button.setAttribute("aria-pressed", String(legendFilter === category));
      button.title = "Show only " + name;
      button.innerHTML = '<span class="swatch"></span><span class="legend-name"></span>';
      button.querySelector(".swatch").style.background = PALETTE[category % PALETTE.length];
      button.querySelector(".legend-name").textContent = name;
      button.addEventListener("click", function () {
        legendFilter = legendFilter === category ? null : category;
        renderLegend();
        applyFilter();
      });
      var count = document.createElement("span");
      count.className = "legend-count";
      count.textContent = counts[category].toLocaleString();
      item.append(button, count);
      legendList.append(item);
    });
  }

  function applyFilter() {
    var keep = null;
    if (onlyShelf && onlyShelf.checked) {
      keep = shelvedIds.map(function (id) { return indexById.get(id); }).filter(function (i) { return i !== undefined; });
    }
    if (legendFilter !== null) {
      var categories = categoriesShown();
      var base = keep || data.ids.map(function (_, i) { return i; });
      keep = base.filter(function (i) { return categories[i] === legendFilter; });
    }
    var shown = keep ? keep.length : data.ids.length;
    container.dataset.shownPoints = String(shown);
    if (keep) {
      if (!keep.length) setStatus("No book matches this filter.");
      return scatterplot.filter(keep, { preventEvent: true });
    }
    // Nothing to undo: unfiltering would wait for a frame of its own (~200 ms at 200,000 books without a GPU).
    if (!scatterplot.get("isPointsFiltered")) return Promise.resolve();
    return scatterplot.unfilter({ preventEvent: true });
  }

  function showTooltip(index) {
    if (drag || !isUnmoved(moved)) return;
    var position = scatterplot.getScreenPosition(index);
    if (!position) return;
    tooltip.innerHTML = "<strong></strong><span></span>";
    tooltip.querySelector("strong").textContent = data.titles[index];
    tooltip.querySelector("span").textContent = data.authors[index] || "";
    tooltip.hidden = false;
    var x = Math.min(position[0] + 12, container.clientWidth - tooltip.offsetWidth - 8);
    var y = position[1] + 12 + tooltip.offsetHeight > container.clientHeight ? position[1] - tooltip.offsetHeight - 12 : position[1] + 12;
    tooltip.style.left = Math.max(8, x) + "px";
    tooltip.style.top = Math.max(8, y) + "px";
    canvas.style.cursor = "pointer";
  }

  function hideTooltip() { tooltip.hidden = true; canvas.style.cursor = ""; }

  // --- Pan and zoom on the frame already drawn ----------------------------------------------------------
  // Drawing every book is one WebGL pass over all of them, and regl-scatterplot makes it at every mouse move of a
  // drag and every wheel step. Where WebGL runs in software (no GPU, or a blocked one) a pass takes ~200 ms at
  // 200,000 books, so a drag ran at ~12 frames a second. So the page pans and zooms itself: a plain drag or a wheel
  // step moves the last frame (a CSS transform of the canvas, which the browser composites without drawing again),
  // and the camera takes the same move, so every book is drawn again, once, where the new frame lands exactly on
  // the moved one, when the gesture rests for RESTING_MS or ends. The library's camera is fixed (it no longer pans,
  // zooms or rotates by itself); a drag with a modifier key is still the library's (Shift: its lasso).

  var RESTING_MS = 120;
  var moved = { s: 1, tx: 0, ty: 0 };  // shown but not drawn yet: canvas point p appears at s * p + (tx, ty)
  var handedOver = null;               // the part of `moved` the camera has taken, until its frame is drawn
  var drag = null;                     // the last mouse position of a plain drag on the map
  var dragged = 0;                     // how far the last drag went (px): a click after one opens no book
  var restTimer = 0;

  // Before the books are drawn the library draws no frame, so a move handed to its camera would wait for one.
  function isDrawn() { return !!scatterplot && scatterplot.get("isPointsDrawn"); }

  function isUnmoved(move) { return move.s === 1 && !move.tx && !move.ty; }

  function showMoved() {
    canvas.style.transformOrigin = "0 0";
    canvas.style.transform = isUnmoved(moved) ? "" : "translate(" + moved.tx + "px," + moved.ty + "px) scale(" + moved.s + ")";
  }

  function restSoon() {
    clearTimeout(restTimer);
    restTimer = setTimeout(drawMoved, RESTING_MS);
  }

  // Gives the camera the move shown so far. In normalised device coordinates the move is x -> s x + (s - 1 +
  // 2 tx / width), y -> s y + (1 - s - 2 ty / height); the camera's x is that x times the canvas' aspect ratio, so
  // the new view is L * view with L = [[s, 0, 0, ax], [0, s, 0, ay], [0, 0, 1, 0], [0, 0, 0, 1]].
  function drawMoved() {
    if (handedOver) { restSoon(); return; }  // the previous move's frame first
    if (isUnmoved(moved)) return;
    var width = canvas.clientWidth, height = canvas.clientHeight, s = moved.s;
    var ax = (s - 1 + 2 * moved.tx / width) * (width / height), ay = 1 - s - 2 * moved.ty / height;
    var view = scatterplot.get("cameraView"), next = new Float32Array(16);
    for (var column = 0; column < 16; column += 4) {  // gl-matrix is column-major
      next[column] = s * view[column] + ax * view[column + 3];
      next[column + 1] = s * view[column + 1] + ay * view[column + 3];
      next[column + 2] = view[column + 2];
      next[column + 3] = view[column + 3];
    }
    handedOver = { s: moved.s, tx: moved.tx, ty: moved.ty };
    scatterplot.view(next);
  }

  // The frame with the camera's move is being drawn: what is still shown moved is what came after it.
  function frameDrawn() {
    if (!handedOver) return;
    var k = moved.s / handedOver.s;
    moved = { s: k, tx: moved.tx - k * handedOver.tx, ty: moved.ty - k * handedOver.ty };
    handedOver = null;
    showMoved();
  }

  function moveBy(dx, dy) {
    moved.tx += dx;
    moved.ty += dy;
    showMoved();
    restSoon();
  }

  // Zooms by `factor` about the canvas point (x, y), as the library's wheel does (a step of 120 px: x1.19 at a
  // canvas 700 px high).
  function zoomBy(factor, x, y) {
    moved = { s: moved.s * factor, tx: factor * (moved.tx - x) + x, ty: factor * (moved.ty - y) + y };
    showMoved();
    restSoon();
  }

  container.addEventListener("mousedown", function (event) {
    if (!isDrawn() || event.button !== 0 || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target !== canvas) return;
    drag = { x: event.clientX, y: event.clientY };
    dragged = 0;
    hideTooltip();
  }, true);
  // Capturing on window: the library's own mousemove (hover, and a redraw at each move while the button is down) is
  // not reached during a drag.
  window.addEventListener("mousemove", function (event) {
    if (!drag) return;
    event.stopPropagation();
    moveBy(event.clientX - drag.x, event.clientY - drag.y);
    dragged += Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y);
    drag = { x: event.clientX, y: event.clientY };
  }, true);
  window.addEventListener("mouseup", function () {
    if (!drag) return;
    drag = null;
    clearTimeout(restTimer);
    drawMoved();
  }, true);
  // The library takes a click as one when the mouse is where it went down, in the canvas' box, which moved with
  // the drag.
  container.addEventListener("click", function (event) {
    if (dragged >= 3) event.stopPropagation();
    dragged = 0;
  }, true);
  container.addEventListener("wheel", function (event) {
    if (!isDrawn()) return;
    event.preventDefault();
    event.stopPropagation();
    var pixels = event.deltaY * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? canvas.clientHeight : 1);
    var box = container.getBoundingClientRect();  // the canvas' own box moves with it
    hideTooltip();
    zoomBy(Math.exp(-pixels / canvas.clientHeight), event.clientX - box.left, event.clientY - box.top);
  }, { capture: true, passive: false });

  // --- Search: suggestions from the loaded titles, then zoom to the book and its neighbours ---------

  var suggestions = [];
  var activeSuggestion = -1;

  function searchBooks(query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    if (!folded) folded = data.titles.map(function (title, i) { return fold(title + " " + (data.authors[i] || "")); });
    var found = [];
    for (var i = 0; i < folded.length && found.length < 8; i++) {
      if (words.every(function (word) { return folded[i].indexOf(word) !== -1; })) found.push(i);
    }
    return found;
  }

  function renderSuggestions() {
    suggestionList.innerHTML = "";
    suggestions.forEach(function (index, position) {
      var item = document.createElement("li");
      item.id = "map-suggestion-" + position;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(position === activeSuggestion));
      item.innerHTML = "<span></span><br><span class='muted'></span>";
      item.firstChild.textContent = data.titles[index];
      item.lastChild.textContent = data.authors[index] || "";
      item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
      suggestionList.append(item);
    });
    suggestionList.hidden = !suggestions.length;
    searchInput.setAttribute("aria-expanded", String(!!suggestions.length));
    if (activeSuggestion >= 0) searchInput.setAttribute("aria-activedescendant", "map-suggestion-" + activeSuggestion);
    else searchInput.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    suggestions = [];
    activeSuggestion = -1;
    renderSuggestions();
    searchInput.value = data.titles[index];
    focusBook(index);
  }

  function focusBook(index) {
    var id = data.ids[index];
    programmatic = true;
    scatterplot.select([index], { preventEvent: true });
    programmatic = false;
    focusPanel.hidden = false;
    focusPanel.innerHTML = "<h2><a></a></h2><p class='muted'></p><p class='muted small'>Finding its nearest books…</p>";
    focusPanel.querySelector("a").href = bookUrl(id);
    focusPanel.querySelector("a").textContent = data.titles[index];
    focusPanel.querySelector("p").textContent = data.authors[index] || "";
    fetch(neighboursUrl(id), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (result) {
        var near = result.neighbours.filter(function (n) { return indexById.has(n.id); });
        var indices = [index].concat(near.map(function (n) { return indexById.get(n.id); }));
        programmatic = true;
        scatterplot.select(indices, { preventEvent: true });
        programmatic = false;
        scatterplot.zoomToPoints(indices, { padding: 0.6, transition: true });
        var note = focusPanel.querySelector(".small");
        if (!result.neighbours.length) { note.textContent = "No neighbours: this book has no vector."; return; }
        note.textContent = "Nearest books (highlighted):";
        var list = document.createElement("ol");
        result.neighbours.forEach(function (n) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = n.url;
          link.textContent = n.title;
          item.append(link, document.createTextNode(" · " + Math.round(n.similarity * 100) + "%"));
          list.append(item);
        });
        focusPanel.append(list);
      })
      .catch(function () { scatterplot.zoomToPoints([index], { padding: 2, transition: true }); });
  }

  searchInput.addEventListener("input", function () {
    if (!data) return;
    suggestions = searchBooks(searchInput.value);
    activeSuggestion = suggestions.length ? 0 : -1;
    renderSuggestions();
  });
  searchInput.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!suggestions.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      activeSuggestion = (activeSuggestion + step + suggestions.length) % suggestions.length;
      renderSuggestions();
    } else if (event.key === "Escape") {
      suggestions = [];
      renderSuggestions();
    }
  });
  searchInput.addEventListener("blur", function () { suggestions = []; renderSuggestions(); });
  document.getElementById("map-search").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!data) return;
    var found = activeSuggestion >= 0 ? suggestions[activeSuggestion] : searchBooks(searchInput.value)[0];
    if (found === undefined) { setStatus("No book on the map matches “" + searchInput.value + "”."); return; }
    choose(found);
  });

  document.querySelectorAll("input[name=colour]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!data || !radio.checked) return;
      colourBy = radio.value;
      legendFilter = null;
      redraw();
    });
  });
  if (withPredictions) withPredictions.addEventListener("change", function () {
    if (!data) return;
    legendFilter = null;
    redraw();
  });
  if (onlyShelf) onlyShelf.addEventListener("change", function () { if (data) applyFilter(); });

  start();
})();
