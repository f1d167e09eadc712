// had-hls RTL twin of templates/hls/nnet_attention_common.h project_token used as the output projection Wo
// (golden.project on the context, then conversion to the result type).
// One context row (E mantissas, CW bits) in, one result row (E mantissas, YW bits) out, valid/ready both sides.
// E output lanes each run a sequential MAC over the E inputs, PO inputs per cycle (E*PO multipliers,
// 1 + ceil(E/PO) cycles per row; had_hls.rtl picks PO so that Wo keeps up with the attention core):
//   acc[o] = bias_acc[o];  for i = 0..E-1 in order:  acc[o] = conv_accum((acc[o] << SH_A) + (ctx[i] * w[o][i] << SH_P))
// with SH_A = full - F_acc, SH_P = full - (F_ctx + F_w), full = max(F_acc, F_ctx + F_w): exactly the
// accumulator semantics of golden.project (conv_accum = the accum type's quantisation / overflow modes; the PO
// steps of one cycle are chained in input order, so the rounding sequence is the C++ one).
// bias_acc = bias converted to the accum type (accum.from_mantissa(bias, F_b)), computed from the spec.
// y[o] = conv_result(acc[o]), registered; a new row is accepted while the previous result waits.
// Weights: (out, in) row-major, as torch and spec.o.weight store them.
`default_nettype none
module out_proj #(
    parameter E      = 8,
    parameter PO     = 1,    // inputs per cycle
    parameter CW     = 16,   // context (input) width
    parameter WW     = 16,   // weight width
    parameter ACCW   = 40,   // accum width
    parameter YW     = 16,   // result width
    parameter SH_A   = 0,
    parameter SH_P   = 0,
    parameter ACC_Q  = 0,
    parameter ACC_O  = 0,
    parameter Y_RSH  = 4,
    parameter Y_LSH  = 0,
    parameter Y_Q    = 2,
    parameter Y_O    = 1,
    parameter Y_SIGNED = 1,
    parameter W_FILE = "wo.hex",
    parameter B_FILE = "bo_acc.hex"
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          in_valid,
    output wire          in_ready,
    input  wire [E*CW-1:0] in_data,
    output reg           out_valid,
    input  wire          out_ready,
    output reg  [E*YW-1:0] out_data
);
    localparam PW = CW + WW;
    localparam XW = ((ACCW + SH_A > PW + SH_P) ? ACCW + SH_A : PW + SH_P) + 2;
    localparam C  = (E + PO - 1) / PO;      // MAC cycles per row
    localparam IB = $clog2(C + 1) + 1;

    reg [WW-1:0]   wrom [0:E*E-1];
    reg [ACCW-1:0] brom [0:E-1];
    initial begin
        $readmemh(W_FILE, wrom);
        $readmemh(B_FILE, brom);
    end

    reg busy;
    reg [IB-1:0] i;
    reg [E*CW-1:0] row;
    reg [E*ACCW-1:0] acc;
    wire [E*ACCW-1:0] acc_next;
    wire [E*YW-1:0] y_next;
    wire last = busy && (i == C - 1);
    wire done_ok = !out_valid || out_ready;          // the result register is free this cycle
    wire stall = last && !done_ok;
    assign in_ready = !busy || (last && done_ok);

    genvar o, u;
    generate
        for (o = 0; o < E; o = o + 1) begin : lane
            wire [(PO+1)*ACCW-1:0] chain;
            assign chain[ACCW-1:0] = acc[o*ACCW +: ACCW];
            for (u = 0; u < PO; u = u + 1) begin : step
                wire [31:0] idx = i * PO + u;
                wire signed [CW-1:0] x = row[(idx < E ? idx : 0)*CW +: CW];
                wire signed [WW-1:0] w = wrom[o*E + (idx < E ? idx : 0)];
                wire signed [PW-1:0] prod = x * w;
                wire signed [ACCW-1:0] a = chain[u*ACCW +: ACCW];
                wire signed [XW-1:0] a_x = a;
                wire signed [XW-1:0] p_x = prod;
                wire signed [XW-1:0] sum = (a_x <<< SH_A) + (p_x <<< SH_P);
                wire [ACCW-1:0] conv;
                fixed_convert #(.IW(XW), .RSH(SH_A), .LSH(0), .OW(ACCW), .OSIGNED(1), .QUANT(ACC_Q), .OVF(ACC_O))
                    cv (.din(sum), .dout(conv));
                assign chain[(u+1)*ACCW +: ACCW] = (idx < E) ? conv : a;
            end
            assign acc_next[o*ACCW +: ACCW] = chain[PO*ACCW +: ACCW];
            fixed_convert #(.IW(ACCW), .RSH(Y_RSH), .LSH(Y_LSH), .OW(YW), .OSIGNED(Y_SIGNED), .QUANT(Y_Q), .OVF(Y_O))
                res (.din(acc_next[o*ACCW +: ACCW]), .dout(y_next[o*YW +: YW]));
        end
    endgenerate

    integer k;
    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            out_valid <= 1'b0;
            i <= 0;
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            if (busy && !stall) begin
                acc <= acc_next;
                i <= i + 1'b1;
                if (last) begin
                    busy <= 1'b0;
                    out_valid <= 1'b1;
                    out_data <= y_next;
                end
            end
            if (in_valid && in_ready) begin
                row <= in_data;
                for (k = 0; k < E; k = k + 1) acc[k*ACCW +: ACCW] <= brom[k];
                i <= 0;
                busy <= 1'b1;
            end
        end
    end
endmodule
`default_nettype wire
