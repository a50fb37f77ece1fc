// Keep the Temporal SDK quiet in tests: warnings and errors only.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
