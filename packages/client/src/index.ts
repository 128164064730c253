/**
 * Browser SDK for Gatehouse. Zero dependencies.
 *
 * @packageDocumentation
 */
export { readXSRFToken, needsXSRFHeader, DEFAULT_XSRF_COOKIE, DEFAULT_XSRF_HEADER } from './xsrf.js';
