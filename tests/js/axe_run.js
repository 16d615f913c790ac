// run_axe: axe.run on the loaded page (axe-core already injected), violations only.
// Arguments: context (null: the whole document), options, then Selenium's callback.
const [context, options, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
axe.run(context || document, Object.assign({resultTypes: ['violations']}, options || {}))
  .then(r => done({violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      targets: v.nodes.map(n => n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : String(t)).join(' | '))}))}),
        e => done({error: String(e && e.stack || e)}));
