import { Module } from '@nestjs/common';

import { InfoHandlers } from './info/info.handlers';

@Module({ controllers: [InfoHandlers] })
export class RegistryModule {}
