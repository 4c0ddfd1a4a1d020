// EfficientDet anchors, box decoding and NMS in pure TypeScript (Node and k6).
export * from './anchors.ts';
export * from './decode.ts';
export * from './nms.ts';
