// Any path that is not a page.
import {h} from '../dom.js';

export async function render(root) {
  root.append(h('h1', {tabindex: '-1'}, 'Page not found'),
    h('p', null, 'There is no page at this address. ', h('a', {href: '/'}, 'Go to my projects'), '.'));
}
