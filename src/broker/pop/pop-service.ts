import { BrokerError } from "../../common/errors.js";
import type { ReceiveRequest, ReceivedMessage } from "./pop-types.js";

export class PopService {
  receive(_req: ReceiveRequest): Promise<ReceivedMessage[]> {
    return Promise.reject(new BrokerError("SYSTEM_ERROR", "not yet"));
  }
  ack(_g: string, _t: string, _h: string): Promise<void> {
    return Promise.reject(new BrokerError("SYSTEM_ERROR", "not yet"));
  }
  changeInvisible(_g: string, _t: string, _h: string, _ms: number): Promise<string> {
    return Promise.reject(new BrokerError("SYSTEM_ERROR", "not yet"));
  }
  forwardToDeadLetter(_g: string, _t: string, _h: string): Promise<void> {
    return Promise.reject(new BrokerError("SYSTEM_ERROR", "not yet"));
  }
}
