"""One-click investigation (一键排查): the batches present at a place in a window, their sources and every other
holder, as an API answer and as a page."""
