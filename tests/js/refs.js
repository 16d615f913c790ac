// check_page: every URL the page references (href, src, srcset, poster, data, xlink:href) and every id.
const out = [];
const abs = raw => { try { return new URL(raw, document.baseURI).href; } catch (e) { return null; } };
const add = (el, attr, raw) => {
  if (raw === null || raw === undefined) return;
  out.push({tag: el.tagName.toLowerCase(), attr, raw, url: attr.endsWith('srcset') ? null : abs(raw.trim())});
};
for (const el of document.querySelectorAll('[href]:not(base)')) add(el, 'href', el.getAttribute('href'));
for (const el of document.querySelectorAll('[src]')) add(el, 'src', el.getAttribute('src'));
for (const el of document.querySelectorAll('[srcset]')) add(el, 'srcset', el.getAttribute('srcset'));
for (const el of document.querySelectorAll('link[imagesrcset]')) add(el, 'imagesrcset', el.getAttribute('imagesrcset'));
for (const el of document.querySelectorAll('video[poster]')) add(el, 'poster', el.getAttribute('poster'));
for (const el of document.querySelectorAll('object[data]')) add(el, 'data', el.getAttribute('data'));
for (const el of document.querySelectorAll('svg *')) {
  const x = el.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
  if (x !== null && !el.hasAttribute('href')) add(el, 'xlink:href', x);
}
const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id)
  .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.getAttribute('name')));
return {refs: out, ids, baseURI: document.baseURI, url: location.href,
        hasIcon: !!document.querySelector('link[rel~="icon" i]')};
