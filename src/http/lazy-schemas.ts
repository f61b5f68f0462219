import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Compile = (routeSchema: unknown) => (data: unknown) => unknown;
type Factory = (...args: unknown[]) => Compile;
/** What a compiled validator is to Fastify: called with the data, `errors` read when it returns false. */
type Validator = ((data: unknown) => unknown) & { errors?: unknown };

/** Fastify's own default compilers, resolved from Fastify's location (its dependencies, the same versions). */
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

/**
 * A compiler factory whose compilers return stand-ins that compile on their first call. Fastify compiles
 * every route's schemas at start-up (Ajv validators, fast-json-stringify serializers: generated code); the
 * control plane's ~100 routes held ~15 MiB of them in a process that may only ever serve /v1. The stand-in
 * calls the compiled function with the same arguments and copies Ajv's `errors` onto itself (Fastify reads
 * them from the function it called), so validation and serialization are unchanged.
 */
function lazyFactory(defaultFactory: Factory, copyErrors: boolean): Factory {
  return (...factoryArgs: unknown[]) => {
    const compile = defaultFactory(...factoryArgs);
    return (routeSchema: unknown) => {
      let compiled: Validator | undefined;
      const standIn: Validator = (data: unknown) => {
        compiled ??= compile(routeSchema) as Validator;
        const result = compiled(data);
        if (copyErrors) standIn.errors = compiled.errors;
        return result;
      };
      return standIn;
    };
  };
}

/**
 * Fastify's default schema compilers (Ajv, fast-json-stringify), each route's schema compiled when the route
 * first validates or serializes rather than at start-up.
 *
 * @example Fastify({ schemaController: { compilersFactory: lazySchemaCompilers() } })
 */
export function lazySchemaCompilers(): CompilersFactory {
  const ajvCompiler = fastifyRequire('@fastify/ajv-compiler') as () => Factory;
  const serializerCompiler = fastifyRequire('@fastify/fast-json-stringify-compiler') as () => Factory;
  return {
    buildValidator: lazyFactory(ajvCompiler(), true) as unknown as CompilersFactory['buildValidator'],
    buildSerializer: lazyFactory(serializerCompiler(), false) as unknown as CompilersFactory['buildSerializer'],
  };
}
