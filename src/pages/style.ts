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
`;
