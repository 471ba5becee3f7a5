import { asyncScheduler } from 'rxjs';
import {
  checkBoolean,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkOneOf,
  checkScheduler,
} from '../../src/core/validate';

describe('config validation helpers', () => {
  it('checkNumber: TypeError for a non-number, RangeError out of range, always naming the field', () => {
    expect(() => checkNumber('n', '3')).toThrow(new TypeError('Expected `n` to be a number, got `3` (string).'));
    expect(() => checkNumber('n', NaN)).toThrow(TypeError);
    expect(() => checkNumber('size', 0, { min: 1, integer: true })).toThrow(
      new RangeError('Expected `size` to be a positive integer, got `0` (number).'),
    );
    expect(() => checkNumber('size', 1.5, { min: 1, integer: true })).toThrow(RangeError);
    expect(() => checkNumber('p', 2, { min: 0, max: 1 })).toThrow(
      new RangeError('Expected `p` to be a non-negative number at most 1, got `2` (number).'),
    );
    expect(() => checkNumber('t', 0, { min: 0, exclusiveMin: true })).toThrow(/a positive number/);
    expect(() => checkNumber('i', Infinity)).toThrow(RangeError);
    expect(() => checkNumber('i', Infinity, { allowInfinity: true })).not.toThrow();
    expect(() => checkNumber('n', undefined)).not.toThrow();
  });

  it('checkFunction, checkBoolean, checkObject: the type named, undefined passes', () => {
    expect(() => checkFunction('f', 1)).toThrow('Expected `f` to be a function, got `1` (number).');
    expect(() => checkBoolean('b', 'yes')).toThrow('Expected `b` to be a boolean, got `yes` (string).');
    expect(() => checkObject('config', null)).toThrow('Expected `config` to be an object, got `null` (null).');
    for (const check of [checkFunction, checkBoolean, checkObject]) expect(() => check('x', undefined)).not.toThrow();
  });

  it('checkOneOf lists the allowed values', () => {
    expect(() => checkOneOf('device', 'tpu', ['cpu', 'webgpu'])).toThrow(
      new RangeError("Expected `device` to be one of 'cpu', 'webgpu', got `tpu` (string)."),
    );
    expect(() => checkOneOf('device', 3, ['cpu'])).toThrow(TypeError);
    expect(() => checkOneOf('device', 'cpu', ['cpu'])).not.toThrow();
  });

  it('checkScheduler wants now() and schedule()', () => {
    expect(() => checkScheduler('scheduler', asyncScheduler)).not.toThrow();
    expect(() => checkScheduler('scheduler', { now: () => 0 })).toThrow(/SchedulerLike/);
  });

  it('checkKnownKeys names the unknown key and the nearest known one', () => {
    const known = { concurrent: true, ordered: true } as const;
    expect(() => checkKnownKeys('the config', { concurent: 2 }, known)).toThrow(
      new TypeError(
        'Unknown option `concurent` in the config (did you mean `concurrent`?); known options: concurrent, ordered.',
      ),
    );
    expect(() => checkKnownKeys('the config', { zzz: 1 }, known)).toThrow(
      'Unknown option `zzz` in the config; known options: concurrent, ordered.',
    );
    expect(() => checkKnownKeys('the config', { ordered: false }, known)).not.toThrow();
  });
});
