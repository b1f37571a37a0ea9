/**
 * Errors of the OpenAI-compatible server, answered as vLLM answers them: the HTTP status and a body
 * `{"error": {"message", "type", "param", "code"}}` whose code is that status.
 */

const TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'RequestEntityTooLargeError',
  415: 'UnsupportedMediaTypeError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  get type(): string {
    return TYPES[this.status] ?? 'Error';
  }

  body(): { error: { message: string; type: string; param: string | null; code: number } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

/** A request that asks for what cannot be given: 400, naming the field. */
export function badRequest(message: string, param: string | null = null): ApiError {
  return new ApiError(400, message, param);
}
