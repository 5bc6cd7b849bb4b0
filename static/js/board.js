// The pipeline board: drag a card to another stage, or onto Won / Lost.
// Every move is sent to the server; a refused move puts the card back and shows the reason.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) return;
  const toast = document.getElementById("toast");
  const dialog = document.getElementById("lose-dialog");
  const loseForm = document.getElementById("lose-form");
  let dragged = null; // {card, fromColumn, nextSibling}

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function showToast(text, isError) {
    toast.textContent = text;
    toast.classList.toggle("error", !!isError);
    toast.hidden = false;
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(function () { toast.hidden = true; }, isError ? 6000 : 3000);
  }

  function urlFor(kind, dealId) {
    return board.dataset[kind + "Url"].replace("/0/", "/" + dealId + "/");
  }

  async function post(url, fields) {
    const body = new URLSearchParams(fields);
    new URLSearchParams(board.dataset.filters || "").forEach(function (v, k) { body.append(k, v); });
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        body: body,
        credentials: "same-origin",
      });
    } catch (e) {
      return { ok: false, error: "The server could not be reached. Nothing was changed." };
    }
    try {
      return await response.json();
    } catch (e) {
      return { ok: false, error: "The server answered " + response.status + ". Nothing was changed." };
    }
  }

  function updateColumns(columns) {
    Object.keys(columns || {}).forEach(function (stageId) {
      const column = board.querySelector('.column[data-stage="' + stageId + '"]');
      if (!column) return;
      const data = columns[stageId];
      column.querySelector('[data-role="count"]').textContent = data.count;
      column.querySelector('[data-role="total"]').textContent = data.total;
      column.querySelector('[data-role="weighted"]').textContent = data.weighted;
      const empty = column.querySelector(".column-empty");
      if (empty) empty.hidden = data.count > 0;
    });
  }

  function snapBack() {
    if (!dragged) return;
    const cards = dragged.fromColumn.querySelector('[data-role="cards"]');
    if (dragged.nextSibling && dragged.nextSibling.parentNode === cards) {
      cards.insertBefore(dragged.card, dragged.nextSibling);
    } else {
      cards.insertBefore(dragged.card, cards.querySelector(".load-more"));
    }
  }

  function clearDragState() {
    document.body.classList.remove("dragging-deal");
    document.querySelectorAll(".drag-over").forEach(function (el) { el.classList.remove("drag-over"); });
    if (dragged) dragged.card.classList.remove("dragging");
  }

  async function moveTo(column) {
    const move = dragged;
    if (column === move.fromColumn) return;
    const cards = column.querySelector('[data-role="cards"]');
    cards.insertBefore(move.card, cards.firstChild); // optimistic; snapped back when refused
    const result = await post(urlFor("move", move.card.dataset.deal), {
      stage: column.dataset.stage, version: move.card.dataset.version,
    });
    if (result.ok) {
      move.card.dataset.version = result.version;
      updateColumns(result.columns);
      showToast(result.message);
    } else {
      dragged = move;
      snapBack();
      showToast(result.error, true);
    }
  }

  async function markWon() {
    const move = dragged;
    const result = await post(urlFor("win", move.card.dataset.deal), { version: move.card.dataset.version });
    if (result.ok) {
      move.card.remove();
      updateColumns(result.columns);
      showToast(result.message);
    } else {
      showToast(result.error, true);
    }
  }

  function askLostReason() {
    const move = dragged;
    loseForm.reset();
    loseForm.dataset.deal = move.card.dataset.deal;
    loseForm.dataset.version = move.card.dataset.version;
    dialog.querySelector('[data-role="deal-title"]').textContent = move.card.dataset.title;
    dialog.querySelector('[data-role="error"]').hidden = true;
    dialog.showModal();
    dialog.querySelector("select").focus();
  }

  if (loseForm) {
    loseForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const fields = Object.fromEntries(new FormData(loseForm).entries());
      fields.version = loseForm.dataset.version;
      const result = await post(urlFor("lose", loseForm.dataset.deal), fields);
      if (result.ok) {
        const card = board.querySelector('.deal-card[data-deal="' + loseForm.dataset.deal + '"]');
        if (card) card.remove();
        dialog.close();
        updateColumns(result.columns);
        showToast(result.message);
      } else {
        const error = dialog.querySelector('[data-role="error"]');
        error.textContent = result.error;
        error.hidden = false;
      }
    });
    dialog.querySelector('[data-role="cancel"]').addEventListener("click", function () { dialog.close(); });
  }

  board.addEventListener("dragstart", function (event) {
    const card = event.target.closest(".deal-card");
    if (!card) return;
    dragged = { card: card, fromColumn: card.closest(".column"), nextSibling: card.nextElementSibling };
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    // Let the browser take its drag image before the drop zones appear.
    setTimeout(function () { document.body.classList.add("dragging-deal"); }, 0);
  });
  document.addEventListener("dragend", clearDragState);

  function dropTarget(event) {
    return event.target.closest ? event.target.closest(".column, .dropzone") : null;
  }
  document.addEventListener("dragover", function (event) {
    const target = dropTarget(event);
    if (!dragged || !target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drag-over").forEach(function (el) { if (el !== target) el.classList.remove("drag-over"); });
    target.classList.add("drag-over");
  });
  document.addEventListener("drop", function (event) {
    const target = dropTarget(event);
    if (!dragged || !target) return;
    event.preventDefault();
    clearDragState();
    if (target.classList.contains("column")) moveTo(target);
    else if (target.dataset.drop === "won") markWon();
    else if (target.dataset.drop === "lost") askLostReason();
  });
})();
