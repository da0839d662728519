import { refuseArgument, type Fault, type FaultType } from './fault.js';

/** A body that starts like JSON and breaks off: what a provider returns when its serializer dies mid-write. */
const GARBAGE = Buffer.from('{"result": "The answer is\u0000\u00ff<html><body>502 Bad Gateway');

/** `malformed`: a 200 whose body is not valid JSON, instead of calling the upstream. HTTP only. */
export const malformedFault: FaultType = {
  type: 'malformed',
  argument: 'none',
  create(argument): Fault {
    refuseArgument('malformed', argument);
    return {
      name: 'malformed',
      layer: 'http',
      inject: (ops) => ops.answer(200, { 'content-type': 'application/json', 'content-length': GARBAGE.length }, GARBAGE),
    };
  },
};
