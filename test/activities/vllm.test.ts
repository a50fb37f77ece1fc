import { parseChatCompletion, parseVllmError } from '../../src/activities/vllm';

describe('vLLM error parsing', () => {
  it('reads the flat error shape of vLLM up to v0.10.0', () => {
    const body = JSON.stringify({
      object: 'error',
      message: 'max_tokens is too large',
      type: 'BadRequestError',
      param: null,
      code: 400,
    });
    expect(parseVllmError(400, body)).toEqual({
      status: 400,
      message: 'max_tokens is too large',
      type: 'BadRequestError',
    });
  });

  it('reads the nested error shape of vLLM from v0.10.1', () => {
    const body = JSON.stringify({
      error: { message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 },
    });
    expect(parseVllmError(404, body)).toEqual({
      status: 404,
      message: 'The model `x` does not exist.',
      type: 'NotFoundError',
    });
  });

  it('keeps the status of a non-JSON error page from a proxy', () => {
    expect(parseVllmError(502, '<html>Bad Gateway</html>')).toEqual({
      status: 502,
      message: '<html>Bad Gateway</html>',
    });
    expect(parseVllmError(503, '')).toEqual({ status: 503, message: 'HTTP 503' });
  });
});

describe('chat completion parsing', () => {
  it('returns the text and token usage of the first choice', () => {
    const body = JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content: '잘했어요 🌱' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
    });
    expect(parseChatCompletion(body)).toEqual({
      text: '잘했어요 🌱',
      finishReason: 'stop',
      usage: { promptTokens: 100, completionTokens: 20 },
    });
  });

  it('rejects a body without choices', () => {
    expect(() => parseChatCompletion('{"choices":[]}')).toThrow(/choices/);
  });
});
