/** The part of a Workers Queue producer the domain uses; `Queue` satisfies it. */
export interface QueueProducer<Body> {
  sendBatch(messages: Iterable<{ body: Body; delaySeconds?: number }>): Promise<unknown>;
}
