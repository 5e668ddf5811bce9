/* SPDX-License-Identifier: MIT */
/* bms_cmd.h — requests to a BMS poller through its command queue (app->bms_cmdq[string]). */
#ifndef BMSGW_BMS_CMD_H
#define BMSGW_BMS_CMD_H

/*
 * Sent with cmdq_call(app->bms_cmdq[string_index], &req, timeout_ms); the poller executes the
 * request between two poll cycles. Results (req.result): 0 on success, or
 *   -ERANGE    value outside the register's range (req.msg names the range)
 *   -EINVAL    not a writable register / unknown op
 *   -ENOTCONN  the link is down
 *   -EIO       the BMS rejected the command or did not answer (req.msg says which)
 *   -EBADMSG   written, but the read-back differs (req.out[0] = the value read back)
 *   -ETIMEDOUT / -EAGAIN / -ESHUTDOWN from the queue itself
 */
enum bms_cmd_op {
    BMS_CMD_WRITE_SETTING = 1, /* arg[0] = register 300..343, arg[1] = raw register value;
                                  out[0] = raw value read back after the write */
    BMS_CMD_READ_SETTINGS,     /* re-read registers 300..343 now and publish them */
    BMS_CMD_RESET,             /* reset the BMS (proprietary AA 02 05) */
    BMS_CMD_CLEAR_EVENTS,      /* clear the event log (AA 02 01) */
    BMS_CMD_CLEAR_STATS,       /* clear the statistics (AA 02 02) */
};

#endif
