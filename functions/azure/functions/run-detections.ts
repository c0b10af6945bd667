/**
 * Azure Function `run-detections`: the timer trigger running the detection catalogue on embedded DuckDB
 * (handlers/run-detections.ts). Schedule: AMBER_DETECTION_SCHEDULE (NCRONTAB), hourly by default.
 */
import { app } from '@azure/functions';
import { runDetectionsHandler } from '../handlers/run-detections.ts';
import { detectionRuntime } from '../detection-runtime.ts';

const options = detectionRuntime();

app.timer('run-detections', { schedule: '%AMBER_DETECTION_SCHEDULE%', handler: runDetectionsHandler(options) });
