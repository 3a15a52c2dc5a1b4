// The resolve hook of refuse-peers.mjs.
export async function resolve(specifier, context, next) {
  if (/^(prom-client|@opentelemetry\/)/.test(specifier)) {
    const error = new Error(`Cannot find package '${specifier}' (hidden by the test)`);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
