import { ApiError } from './validate';

/** A route's match: what it carries, and its path parameters (decoded). */
export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
}

interface Entry<R> {
  method: string;
  /** a literal segment, or the name of a parameter (`:name` in the pattern) */
  segments: { literal?: string; param?: string }[];
  route: R;
}

/**
 * The api's routes: a method and a path pattern (`/api/products/:name/stats`: a `:name` segment is
 * a parameter) to what serves them. A path matches segment by segment, exactly (case, trailing and
 * doubled slashes count); a parameter is one whole segment, percent-decoded (`%2F` is part of it).
 * HEAD is served by the GET route. Malformed percent-encoding anywhere in the path is a 400 bad_url.
 */
export class Router<R> {
  private readonly entries: Entry<R>[] = [];

  add(method: string, pattern: string, route: R): void {
    const segments = pattern
      .split('/')
      .slice(1)
      .map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s }));
    this.entries.push({ method, segments, route });
  }

  /** The route of a request's method and path (the request target without its query); undefined: none. */
  find(method: string, path: string): RouteMatch<R> | undefined {
    const parts = pathSegments(path);
    if (parts === undefined) return undefined;
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const entry of this.entries) {
      if (entry.method !== wanted || entry.segments.length !== parts.length) continue;
      const params = matchSegments(entry.segments, parts);
      if (params) return { route: entry.route, params };
    }
    return undefined;
  }
}

function matchSegments(segments: Entry<unknown>['segments'], parts: string[]): Record<string, string> | undefined {
  let params: Record<string, string> | undefined;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s.param === undefined) {
      if (s.literal !== parts[i]) return undefined;
    } else {
      (params ??= {})[s.param] = parts[i];
    }
  }
  return params ?? NO_PARAMS;
}

const NO_PARAMS: Record<string, string> = Object.freeze({});

/** A path's segments, percent-decoded; undefined for a target that is not a path (`*`, `example.com:443`). */
export function pathSegments(path: string): string[] | undefined {
  const p = absolutePath(path);
  if (p === undefined) return undefined;
  const parts = p.split('/').slice(1);
  if (!p.includes('%')) return parts;
  return parts.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ApiError(400, 'bad_url', 'the URL is not valid (malformed percent-encoding)');
    }
  });
}

/** `/a/b`, or the path of an absolute-form target (`http://host/a/b`). */
function absolutePath(target: string): string | undefined {
  if (target.startsWith('/')) return target;
  const m = /^https?:\/\/[^/?#]*(\/.*)?$/i.exec(target);
  return m ? (m[1] ?? '/') : undefined;
}

/** A request target's path and query string (after the first `?` or `#`; '' when there is none). */
export function splitTarget(url: string): { path: string; query: string } {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 || c === 35) return { path: url.slice(0, i), query: url.slice(i + 1) };
  }
  return { path: url, query: '' };
}
