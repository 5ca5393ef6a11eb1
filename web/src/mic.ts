export interface MicFrame {
  /** 20 ms of 16 kHz little-endian 16-bit PCM. */
  pcm: ArrayBuffer;
  rms: number;
}

export interface Microphone {
  stop(): Promise<void>;
}

/** Opens the microphone (echo cancellation on) and delivers 16 kHz linear16 frames. */
export async function startMicrophone(onFrame: (frame: MicFrame) => void): Promise<Microphone> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  const ctx = new AudioContext();
  try {
    await ctx.audioWorklet.addModule(new URL('capture-worklet.js', document.baseURI).href);
    const source = ctx.createMediaStreamSource(stream);
    const worklet = new AudioWorkletNode(ctx, 'parley-capture', { numberOfOutputs: 0 });
    worklet.port.onmessage = (event: MessageEvent<MicFrame>) => onFrame(event.data);
    source.connect(worklet);
    await ctx.resume();
    return {
      async stop() {
        worklet.port.onmessage = null;
        source.disconnect();
        for (const track of stream.getTracks()) track.stop();
        await ctx.close();
      },
    };
  } catch (error) {
    // The stream is open by now: a failure past this point must not leave the microphone on.
    for (const track of stream.getTracks()) track.stop();
    await ctx.close();
    throw error;
  }
}
