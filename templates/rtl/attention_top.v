// had-hls RTL twin of one whole attention layer from the projections on (nnet_had_attention.h / nnet_fp_attention.h
// after the Tokens loop): the attention core (KIND 0 = had_attention_core, 1 = fp_attention_core), a context
// FIFO of L rows (the C++ keeps ctx[L][E] too) and the output projection Wo (out_proj, PO inputs per cycle).
//   in  : L beats per input (q, k, v of token t; pad = padded key), valid/ready
//   out : L beats, result mantissas y[t] (E x YW bits), valid/ready
//   ctx_mon_valid / ctx_mon_data: a monitor of the core -> FIFO handshake (context rows, for co-simulation).
// Every parameter is written by had_hls.rtl from an AttentionSpec (generated wrapper cosim_dut.v).
`default_nettype none
module attention_top #(
    parameter KIND = 0,
    parameter PO = 1,
    parameter L = 8, parameter E = 8, parameter H = 1, parameter P = 4, parameter N = 4, parameter PA = 0, parameter DN = 0,
    parameter QW = 1,
    parameter HB = 4, parameter KW = 3, parameter S = 1,
    parameter SW = 36, parameter IPW = 55, parameter INV = 46341, parameter ISH = 23, parameter T = 1024,
    parameter TB = 10,
    parameter EW = 18, parameter RW = 18, parameter R = 10, parameter SUMW = 21, parameter AVW = 40,
    parameter NPW = 59, parameter VW = 16, parameter CW = 16, parameter VF = 10, parameter RF = 17, parameter CF = 10,
    parameter WW = 16, parameter ACCW = 40, parameter YW = 16, parameter SH_A = 0, parameter SH_P = 0,
    parameter ACC_Q = 0, parameter ACC_O = 0, parameter Y_RSH = 4, parameter Y_LSH = 0, parameter Y_Q = 2,
    parameter Y_O = 1, parameter Y_SIGNED = 1,
    parameter EXP_FILE = "exp_table.hex", parameter RECIP_FILE = "recip_table.hex",
    parameter W_FILE = "wo.hex", parameter B_FILE = "bo_acc.hex"
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            in_valid,
    output wire            in_ready,
    input  wire [E*QW-1:0] in_q,
    input  wire [E*QW-1:0] in_k,
    input  wire [E*VW-1:0] in_v,
    input  wire            in_pad,
    output wire            out_valid,
    input  wire            out_ready,
    output wire [E*YW-1:0] out_data,
    output wire            ctx_mon_valid,
    output wire [E*CW-1:0] ctx_mon_data,
    output wire            busy
);
    wire ctx_valid, ctx_ready, f_valid, f_ready;
    wire [E*CW-1:0] ctx_data, f_data;
    assign ctx_mon_valid = ctx_valid && ctx_ready;
    assign ctx_mon_data = ctx_data;

    generate
        if (KIND == 0) begin : had
            had_attention_core #(.L(L), .E(E), .H(H), .P(P), .N(N), .PA(PA), .DN(DN), .HB(HB), .KW(KW), .S(S), .EW(EW), .RW(RW), .R(R),
                .SUMW(SUMW), .AVW(AVW), .NPW(NPW), .VW(VW), .CW(CW), .VF(VF), .RF(RF), .CF(CF),
                .EXP_FILE(EXP_FILE), .RECIP_FILE(RECIP_FILE)) core (
                .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_q(in_q), .in_k(in_k),
                .in_v(in_v), .in_pad(in_pad), .ctx_valid(ctx_valid), .ctx_ready(ctx_ready), .ctx_data(ctx_data),
                .busy(busy));
        end else begin : fp
            fp_attention_core #(.L(L), .E(E), .H(H), .P(P), .DN(DN), .QW(QW), .SW(SW), .IPW(IPW), .INV(INV), .ISH(ISH),
                .T(T), .TB(TB), .EW(EW), .RW(RW), .R(R), .SUMW(SUMW), .AVW(AVW), .NPW(NPW), .VW(VW), .CW(CW),
                .VF(VF), .RF(RF), .CF(CF), .EXP_FILE(EXP_FILE), .RECIP_FILE(RECIP_FILE)) core (
                .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_q(in_q), .in_k(in_k),
                .in_v(in_v), .in_pad(in_pad), .ctx_valid(ctx_valid), .ctx_ready(ctx_ready), .ctx_data(ctx_data),
                .busy(busy));
        end
    endgenerate

    stream_fifo #(.W(E*CW), .DEPTH(L)) ctx_fifo (
        .clk(clk), .rst(rst), .in_valid(ctx_valid), .in_ready(ctx_ready), .in_data(ctx_data),
        .out_valid(f_valid), .out_ready(f_ready), .out_data(f_data));

    out_proj #(.E(E), .PO(PO), .CW(CW), .WW(WW), .ACCW(ACCW), .YW(YW), .SH_A(SH_A), .SH_P(SH_P), .ACC_Q(ACC_Q),
        .ACC_O(ACC_O), .Y_RSH(Y_RSH), .Y_LSH(Y_LSH), .Y_Q(Y_Q), .Y_O(Y_O), .Y_SIGNED(Y_SIGNED),
        .W_FILE(W_FILE), .B_FILE(B_FILE)) wo (
        .clk(clk), .rst(rst), .in_valid(f_valid), .in_ready(f_ready), .in_data(f_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));
endmodule
`default_nettype wire
