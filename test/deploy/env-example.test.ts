import { envSchema } from '../../src/config';
import { read } from './compose';

describe('.env.example', () => {
  it('documents every setting of the config schema (set or commented out)', () => {
    const text = read('.env.example');
    const missing = Object.keys(envSchema.shape).filter(
      (name) => !new RegExp(`^(# ?)?${name}=`, 'm').test(text),
    );
    expect(missing).toEqual([]);
  });
});
