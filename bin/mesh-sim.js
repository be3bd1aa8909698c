#!/usr/bin/env node
import { launch } from './launch.js';

await launch('sim/main');
