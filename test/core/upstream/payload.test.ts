/** The fast path for result messages: a canonical message's payload text, taken verbatim, or nothing. */
import { describe, expect, it } from 'vitest';
import { canonicalResult, messageId } from '../../../src/core/upstream/payload.ts';

describe('canonicalResult', () => {
  it('takes the payload of a message in the shape graphql-ws servers write, as written', () => {
    const payload = '{"data":{"ticks":{"symbol":"A\\"}{[","price":1.5,"tags":["}",{"x":[]}]}}}';
    expect(canonicalResult(`{"id":"12","type":"next","payload":${payload}}`, 'next')).toEqual({ id: '12', json: payload });
    expect(canonicalResult(`{"id":"1","type":"data","payload":${payload}}`, 'data')).toEqual({ id: '1', json: payload });
    const message = JSON.stringify({ id: '7', type: 'next', payload: { data: { s: 'é€😀\u2028 \\ "' }, errors: [{ message: 'x' }] } });
    expect(JSON.parse(canonicalResult(message, 'next')!.json)).toEqual({ data: { s: 'é€😀\u2028 \\ "' }, errors: [{ message: 'x' }] });
  });

  it.each([
    ['another key order', '{"type":"next","id":"1","payload":{"data":1}}'],
    ['another type', '{"id":"1","type":"error","payload":[{"message":"x"}]}'],
    ['a field after the payload', '{"id":"1","type":"next","payload":{"data":1},"extra":{"a":1}}'],
    ['pretty-printed JSON (a raw line break would cut the data: line)', '{"id":"1","type":"next","payload":{\n"data":1}}'],
    ['a carriage return', '{"id":"1","type":"next","payload":{\r"data":1}}'],
    ['a raw line break inside a string (not JSON, and it would cut the data: line)', '{"id":"1","type":"next","payload":{"data":"a\nb"}}'],
    ['an escaped quote in the id', '{"id":"1\\"","type":"next","payload":{"data":1}}'],
    ['a payload that is not an object', '{"id":"1","type":"next","payload":[1]}'],
    ['an unterminated payload', '{"id":"1","type":"next","payload":{"data":{"a":1}}'],
    ['an empty id', '{"id":"","type":"next","payload":{}}'],
  ])('leaves %s to the slow path', (_, message) => {
    expect(canonicalResult(message, 'next')).toBeUndefined();
  });
});

describe('messageId', () => {
  it('reads the id an envelope names first, on both protocols, and nothing else', () => {
    expect(messageId('{"id":"3","type":"next","payload":{"data":{"id":"9"}}}')).toBe('3');
    expect(messageId('{"type":"data","id":"4","payload":{}}')).toBe('4');
    expect(messageId('{"payload":{"data":{"id":"9"}},"id":"3","type":"next"}')).toBeUndefined();
    expect(messageId('garbage')).toBeUndefined();
  });
});
