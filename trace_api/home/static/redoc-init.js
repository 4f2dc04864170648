// Starts ReDoc on /redoc. A file of our own rather than an inline script: the page's policy runs scripts from
// this origin only. The fonts are the system's: ReDoc's defaults would be fetched from Google.
"use strict";
const root = document.getElementById("redoc");
const system = 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
Redoc.init(
  root.dataset.openapiUrl,
  {
    theme: {
      typography: {
        fontFamily: system,
        headings: { fontFamily: system },
        code: { fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace' },
      },
    },
  },
  root,
);
