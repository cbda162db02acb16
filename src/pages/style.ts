// The one stylesheet of every person-facing page (sign-in, identity, sign-out, error pages; later the
// console). Inlined in each page and allowed by its sha256 in the Content-Security-Policy: one
// response, no asset route needed on hosts that are not routed (a 404 for an unknown host is styled
// too). No web fonts, no images: nothing to fetch from anywhere. Colours meet WCAG AA contrast.
export const STYLE = `*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;background:#eef1f5;color:#1f2937}
.brand{display:flex;align-items:center;gap:.55rem;max-width:30rem;margin:0 auto;padding:1.75rem 1rem .9rem;font-weight:700;font-size:1.05rem;color:#1e3a8a}
.brand-mark{display:inline-block;width:1.4rem;height:1.4rem;border-radius:.35rem .35rem .2rem .2rem;background:#1d4ed8;box-shadow:inset 0 -.55rem 0 -.3rem #93c5fd}
.wide .brand,main.wide{max-width:46rem}
main{display:block;max-width:30rem;margin:0 auto 2rem;background:#fff;border:1px solid #dde2ea;border-radius:12px;padding:1.75rem 1.5rem;box-shadow:0 1px 2px rgb(0 0 0 / 5%),0 6px 16px rgb(0 0 0 / 4%)}
@media (max-width:520px){.brand{padding:1.1rem 1rem .7rem}main{margin:0 .6rem 1.25rem;padding:1.25rem 1rem}}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 .5rem;overflow-wrap:break-word}
h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
p{margin:0 0 .9rem}
.lead{color:#4b5563}
.lead strong{color:#1f2937}
.status{display:inline-block;margin:0 0 .7rem;padding:.2rem .6rem;border-radius:999px;font:700 .85rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#fee2e2;color:#991b1b}
.status-5{background:#fef3c7;color:#854d0e}
.status-4{background:#fee2e2;color:#991b1b}
label{display:block;margin:1rem 0 .3rem;font-weight:600}
input{display:block;width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:#fff;border:1px solid #8b95a5;border-radius:6px}
input:focus{border-color:#1d4ed8}
:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
.button,button{display:block;width:100%;margin:1.25rem 0 0;padding:.65rem 1rem;font:inherit;font-weight:600;line-height:1.4;text-align:center;text-decoration:none;color:#fff;background:#1d4ed8;border:1px solid #1d4ed8;border-radius:6px;cursor:pointer}
.button:hover,button:hover{background:#1e40af}
.button.secondary,button.secondary{color:#1d4ed8;background:#fff}
.button.secondary:hover,button.secondary:hover{background:#eff6ff}
.button+.button{margin-top:.6rem}
form{margin:0}
form+form button{margin-top:.6rem}
a{color:#1d4ed8;text-underline-offset:2px}
.notice{margin:0 0 1rem;padding:.7rem .85rem;border:1px solid #bfdbfe;border-radius:6px;background:#eff6ff;color:#1e3a8a}
.notice.error{border-color:#fecaca;background:#fef2f2;color:#991b1b}
.muted{color:#4b5563;font-size:.93rem}
.links{margin:1.1rem 0 0;font-size:.93rem}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.45rem 1.25rem;margin:1rem 0}
.facts dt{font-weight:600;color:#374151}
.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
@media (max-width:520px){.facts{grid-template-columns:minmax(0,1fr);gap:0}.facts dd{margin-bottom:.6rem}}
ul{margin:0 0 .9rem;padding-left:1.25rem}
code{font:.88em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:.05rem .3rem;border-radius:4px;background:#f1f3f6;overflow-wrap:anywhere}
pre{max-width:100%;overflow:auto;margin:.6rem 0 0;padding:.75rem;font:.8rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f8f9fb;border:1px solid #e5e7eb;border-radius:6px}
details{margin:1rem 0 0}
summary{cursor:pointer;font-weight:600}
.meta{display:flex;flex-wrap:wrap;gap:.3rem 1.25rem;margin:1.5rem 0 0;padding:1rem 0 0;border-top:1px solid #e5e7eb;font-size:.85rem;color:#4b5563}
.meta div{display:flex;gap:.4rem;min-width:0}
.meta dt{font-weight:600;white-space:nowrap}
.meta dd{margin:0;min-width:0;overflow-wrap:anywhere}
.console .brand,main.console{max-width:78rem}
.console-nav{max-width:78rem;margin:0 auto .8rem;padding:0 1rem}
.console-nav ul{display:flex;flex-wrap:wrap;gap:.25rem .4rem;margin:0;padding:0;list-style:none}
.console-nav a{display:inline-block;padding:.3rem .65rem;border-radius:6px;color:#1e3a8a;text-decoration:none;font-weight:600;font-size:.93rem}
.console-nav a:hover{background:#dbe4f3}
.console-nav a[aria-current=page]{background:#1d4ed8;color:#fff}
.console-nav .who{margin-left:auto;display:flex;align-items:center;gap:.5rem;font-size:.88rem;color:#374151}
.console-nav .who button{width:auto;margin:0;padding:.25rem .6rem;font-size:.85rem}
.scroll{max-width:100%;overflow-x:auto;margin:.6rem 0 1rem}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{padding:.45rem .55rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{font-weight:600;color:#374151;background:#f8f9fb;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:0 0 .4rem}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.2rem .8rem;align-items:end;margin:0 0 .6rem}
.filters label{margin:.4rem 0 .2rem;font-size:.88rem}
.filters input,.filters select{padding:.4rem .5rem}
.filters button,.inline button{width:auto;margin:0;padding:.45rem .9rem}
select,textarea{display:block;width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:#fff;border:1px solid #8b95a5;border-radius:6px}
textarea{font:.85rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;min-height:12rem}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8rem;font-weight:600;background:#e5e7eb;color:#1f2937;white-space:nowrap}
.badge.ok{background:#dcfce7;color:#14532d}
.badge.bad{background:#fee2e2;color:#991b1b}
.badge.warn{background:#fef3c7;color:#78350f}
.tree,.tree ul{list-style:none;margin:0;padding-left:1rem}
.tree{padding-left:0}
.tree li{margin:.15rem 0}
.diff-add{color:#14532d}
.diff-del{color:#991b1b}
.danger{color:#fff;background:#b91c1c;border-color:#b91c1c}
.danger:hover{background:#991b1b}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 2rem}
.pager{display:flex;gap:1rem;margin:.5rem 0 0}
`;
