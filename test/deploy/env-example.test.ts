import { devEnvSchema } from '../../dev/config';
import { envSchema } from '../../src/config';
import { read } from './compose';

describe('.env.example', () => {
  it("documents every setting of the config schema and the development tools' (set or commented out)", () => {
    const text = read('.env.example');
    const missing = [...Object.keys(envSchema.shape), ...Object.keys(devEnvSchema.shape)].filter(
      (name) => !new RegExp(`^(# ?)?${name}=`, 'm').test(text),
    );
    expect(missing).toEqual([]);
  });
});
