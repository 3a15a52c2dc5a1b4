/* The page's stylesheet: system fonts, one palette (light and dark), one colour per job state. */
export const STYLE_CSS = `
:root {
  --bg: #f5f6f8; --card: #ffffff; --border: #e2e5ea; --text: #1c2230; --muted: #687083;
  --accent: #3b5bdb; --accent-soft: #eef2ff; --row-hover: #f8f9fb;
  --waiting: #64748b; --pending: #2f6fde; --delayed: #7c4dde; --reserved: #d98a06; --completed: #1f9d55; --dead: #d63a3a;
  --shadow: 0 1px 2px rgba(16, 24, 40, .05);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1218; --card: #171b23; --border: #2a303b; --text: #e4e7ed; --muted: #9098a8;
    --accent: #7c95f5; --accent-soft: #1f2640; --row-hover: #1c212b; --shadow: none;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
[hidden] { display: none !important; }
.muted { color: var(--muted); }

.topbar {
  display: flex; align-items: center; gap: 20px; padding: 12px 28px;
  background: var(--card); border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: center; gap: 9px; font-weight: 650; font-size: 16px; }
.target { display: flex; align-items: center; gap: 8px; min-width: 0; flex: 1; color: var(--muted); }
.target code { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.badge {
  font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em;
  padding: 2px 7px; border-radius: 999px; background: var(--accent-soft); color: var(--accent);
}
.badge.paused { margin-left: 8px; background: #fff4e0; color: #a35a00; }
.badge.limits { margin-left: 8px; background: #eef2ff; color: #3b4aa0; }
.status { display: flex; align-items: center; gap: 7px; color: var(--muted); font-size: 13px; }
.status .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
.status[data-state="live"] .dot { background: var(--completed); box-shadow: 0 0 0 3px rgba(31, 157, 85, .18); }
.status[data-state="error"] .dot { background: var(--dead); }
.status[data-state="error"] { color: var(--dead); }

main { max-width: 1280px; margin: 0 auto; padding: 22px 28px 48px; display: grid; gap: 18px; }
.card {
  background: var(--card); border: 1px solid var(--border); border-radius: 10px;
  box-shadow: var(--shadow); padding: 16px 18px;
}
.card-head { display: flex; align-items: center; gap: 16px; margin-bottom: 10px; flex-wrap: wrap; }
.card-head h2 { font-size: 15px; margin: 0; font-weight: 620; }
.card-head .legend { display: flex; gap: 16px; margin-left: auto; font-size: 13px; color: var(--muted); }
.key::before {
  content: ""; display: inline-block; width: 10px; height: 3px; border-radius: 2px;
  margin-right: 6px; vertical-align: middle;
}
.key strong { color: var(--text); font-variant-numeric: tabular-nums; }
.key.completed::before { background: var(--completed); }
.key.failed::before { background: var(--dead); }
.select { color: var(--muted); font-size: 13px; display: flex; gap: 6px; align-items: center; }
select, button {
  font: inherit; font-size: 13px; color: var(--text); background: var(--card);
  border: 1px solid var(--border); border-radius: 6px; padding: 4px 10px;
}
button { cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); color: var(--accent); }
button:disabled { opacity: .45; cursor: default; }
button.danger { color: var(--dead); }
button.danger:hover:not(:disabled) { border-color: var(--dead); color: var(--dead); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover:not(:disabled) { color: #fff; filter: brightness(1.08); }

.chart { height: 220px; }
.chart svg { display: block; width: 100%; height: 100%; }
.chart .grid-line { stroke: var(--border); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
.chart .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
.chart .line.completed { stroke: var(--completed); }
.chart .line.failed { stroke: var(--dead); }
.chart .area.completed { fill: var(--completed); opacity: .12; }
.chart .area.failed { fill: var(--dead); opacity: .12; }
.note { margin: 8px 0 0; font-size: 12px; color: var(--muted); }

.table-wrap { overflow-x: auto; }
table.grid { width: 100%; border-collapse: collapse; }
.grid th {
  text-align: left; font-weight: 560; font-size: 12px; color: var(--muted);
  padding: 7px 10px; border-bottom: 1px solid var(--border); white-space: nowrap;
}
.grid td { padding: 8px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
.grid tbody tr:last-child td { border-bottom: 0; }
.grid tbody tr:hover { background: var(--row-hover); }
.grid .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.grid tr.selected { background: var(--accent-soft); }
.grid a { color: inherit; text-decoration: none; }
.grid a:hover { color: var(--accent); text-decoration: underline; }
.queue-name { font-weight: 600; }
.count.zero { color: var(--muted); opacity: .6; }
.count.dead:not(.zero) { color: var(--dead); font-weight: 600; }
.preview {
  font-family: var(--mono); font-size: 12px; max-width: 420px;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.error-cell { color: var(--dead); max-width: 280px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nowrap { white-space: nowrap; }

.tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--border); margin-bottom: 6px; }
.tabs a {
  padding: 7px 12px; color: var(--muted); text-decoration: none; border-bottom: 2px solid transparent;
  margin-bottom: -1px; font-weight: 520; display: flex; gap: 6px; align-items: center;
}
.tabs a:hover { color: var(--text); }
.tabs a.active { color: var(--text); border-bottom-color: var(--accent); }
.tabs .pill {
  font-size: 11px; padding: 0 6px; border-radius: 999px; background: var(--bg);
  border: 1px solid var(--border); font-variant-numeric: tabular-nums;
}
.state-dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; }
.s-waiting { background: var(--waiting); } .s-pending { background: var(--pending); } .s-delayed { background: var(--delayed); }
.s-reserved { background: var(--reserved); } .s-completed { background: var(--completed); }
.s-dead { background: var(--dead); }
.actions { margin-left: auto; display: flex; gap: 8px; }
.actions.start { margin-left: 0; }
.pager { display: flex; gap: 8px; align-items: center; margin-top: 10px; }
.empty { color: var(--muted); text-align: center; padding: 18px 0; margin: 0; }

.drawer {
  position: fixed; top: 0; right: 0; bottom: 0; width: min(620px, 100vw); z-index: 10;
  background: var(--card); border-left: 1px solid var(--border);
  box-shadow: -12px 0 32px rgba(16, 24, 40, .12); display: flex; flex-direction: column;
}
.drawer-head { display: flex; align-items: center; gap: 12px; padding: 14px 18px; border-bottom: 1px solid var(--border); }
.drawer-head h2 { margin: 0; font-size: 15px; flex: 1; }
.drawer-body { padding: 16px 18px; overflow: auto; display: grid; gap: 16px; align-content: start; }
.fields { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; font-variant-numeric: tabular-nums; }
.deps { list-style: none; padding: 0; margin: 6px 0; display: grid; gap: 4px; }
.deps li { display: flex; gap: 8px; align-items: center; font-variant-numeric: tabular-nums; }
.deps .dep-queue { color: var(--muted); }
.drawer h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 6px; }
pre.block {
  margin: 0; padding: 10px 12px; background: var(--bg); border: 1px solid var(--border);
  border-radius: 6px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-word;
}
pre.block.error { color: var(--dead); }
.state-label { display: inline-flex; align-items: center; gap: 6px; font-weight: 560; }

.toast {
  position: fixed; bottom: 20px; left: 50%; transform: translateX(-50%); z-index: 20;
  background: var(--text); color: var(--card); padding: 9px 16px; border-radius: 8px; font-size: 13px;
  box-shadow: 0 6px 20px rgba(16, 24, 40, .2);
}
.toast.error { background: var(--dead); color: #fff; }
`;
