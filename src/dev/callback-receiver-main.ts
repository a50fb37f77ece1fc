/** Runs the callback receiver as a process: stands in for the BE during `npm start`. */
import { loadConfig } from '../config';
import { createLogger } from '../shared/logger';
import { onShutdown, runMain } from '../shared/process';
import { createCallbackReceiver } from './callback-receiver';

runMain('callback-receiver', async () => {
  const config = loadConfig();
  const logger = createLogger('callback-receiver', config.logLevel);
  const receiver = createCallbackReceiver();
  receiver.onAccepted = (result) =>
    logger.info(
      {
        memberId: result.memberId,
        requestId: result.requestId,
        status: result.status,
        content: result.content,
      },
      'Feedback delivered to the (stand-in) BE',
    );
  const url = await receiver.listen(config.callbackReceiver.port);
  logger.info({ url }, 'Callback receiver (BE stand-in) listening');
  onShutdown(logger, () => receiver.close());
});
