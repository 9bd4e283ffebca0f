// Public surface of api/ (STYLE.md §1).
export { ApiServer, parseListenAddress, type ApiServerOptions } from './server.js';
export { Router, type Route, type RouteMatch, type HttpMethod } from './router.js';
export { RequestContext } from './context.js';
export { MAX_API_VERSION, MIN_API_VERSION } from './api-version.js';
