#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmark comparison: Debian's pymodbus asynchronous TCP server holding as many registers as
the mega map. usage: mbtcp_pymodbus_server.py PORT"""
import asyncio
import logging
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncTcpServer

REGISTERS = 30009


def main():
    logging.disable(logging.CRITICAL)
    port = int(sys.argv[1])
    block = ModbusSequentialDataBlock(0, [i & 0xFFFF for i in range(REGISTERS)])
    store = ModbusSlaveContext(hr=block, ir=block, zero_mode=True)
    context = ModbusServerContext(slaves=store, single=True)
    asyncio.run(StartAsyncTcpServer(context=context, address=("127.0.0.1", port)))


if __name__ == "__main__":
    main()
