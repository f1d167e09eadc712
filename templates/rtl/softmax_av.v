// had-hls RTL twin of the SparseAV / DenseAV loops of templates/hls/nnet_had_attention.h / nnet_fp_attention.h
// (golden.had_exp_weights / fp_exp_weights + the sums of golden.normalise_av).
//   table_rom         : asynchronous ROM loaded with $readmemh from a file written by had_hls.rtl from the spec
//                       (the SAME integers as spec.exp_table / spec.recip_table); table_rom_sync: registered read.
//   softmax_av_lanes  : P lanes per cycle:  S += sum_p e_p;  acc[c] += sum_p e_p * v_p[c]   (pipelined, exact;
//                       e unsigned EW bits, v signed VW bits, acc signed AVW bits = spec.widths['av_acc']).
`default_nettype none
module table_rom #(
    parameter DEPTH = 16,
    parameter AW    = 4,
    parameter DW    = 18,
    parameter FILE  = "table.hex"
) (
    input  wire [AW-1:0] addr,
    output wire [DW-1:0] data
);
    reg [DW-1:0] rom [0:DEPTH-1];
    initial $readmemh(FILE, rom);
    assign data = (addr < DEPTH) ? rom[addr] : {DW{1'b0}};
endmodule

// table_rom_sync: the same table with a registered read (en = read this cycle): Yosys maps it to block RAM.
module table_rom_sync #(
    parameter DEPTH = 16,
    parameter AW    = 4,
    parameter DW    = 18,
    parameter FILE  = "table.hex"
) (
    input  wire          clk,
    input  wire          en,
    input  wire [AW-1:0] addr,
    output reg  [DW-1:0] data
);
    reg [DW-1:0] rom [0:DEPTH-1];
    initial $readmemh(FILE, rom);
    always @(posedge clk) if (en) data <= rom[addr];   // addr < DEPTH
endmodule

module softmax_av_lanes #(
    parameter P    = 4,
    parameter D    = 8,
    parameter EW   = 18,
    parameter VW   = 16,
    parameter SUMW = 21,
    parameter AVW  = 40,
    parameter TW   = 1       // caller's tag, sampled with in_last, out with done
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              en,
    input  wire              in_v,     // this cycle's P lanes enter
    input  wire              in_first, // the row's first cycle (accumulators restart from zero)
    input  wire              in_last,  // the row's last cycle
    input  wire [P*EW-1:0]   e,        // weights, 0 for keys that are not kept / not valid
    input  wire [P*D*VW-1:0] v,        // lane p, element c at [(p*D + c)*VW +: VW]
    input  wire [TW-1:0]     in_tag,
    output reg  [SUMW-1:0]   sum,      // S and acc of the row, final in the cycle done is high
    output reg  [D*AVW-1:0]  av,
    output reg               done,
    output reg  [TW-1:0]     out_tag
);
    // Pipelined: M registers the P*D products (DSP MREG), sum_tree adds the P lanes of each element (and of S), then
    // the accumulators. done rises LAT = 2 + LAT(sum_tree of P) cycles after in_last (av_latency in had_hls.rtl).
    localparam PW = EW + VW;                     // a product e * v (signed: |e v| < 2^(EW+VW-1))
    localparam LW = PW + $clog2(P + 1);          // a sum of P of them
    localparam EL = EW + $clog2(P + 1);          // a sum of P weights
    integer p, c;
    reg m_v, m_first, m_last;
    reg [TW-1:0] m_tag;
    reg [P*D*PW-1:0] m_prod;
    reg [P*EW-1:0] m_e;
    reg signed [EW:0] ew;
    reg signed [VW-1:0] vv;
    always @(posedge clk) begin
        if (rst) m_v <= 1'b0;
        else if (en) begin
            m_v <= in_v; m_first <= in_first; m_last <= in_last;
        end
        if (en) begin
            m_tag <= in_tag;
            m_e <= e;
            for (p = 0; p < P; p = p + 1)
                for (c = 0; c < D; c = c + 1) begin
                    ew = {1'b0, e[p*EW +: EW]};
                    vv = v[(p*D + c)*VW +: VW];
                    m_prod[(c*P + p)*PW +: PW] <= ew * vv;   // element c's P lanes side by side
                end
        end
    end
    // lane sums: S (unsigned) and one signed sum per element
    wire [EL-1:0] s_lanes;
    wire [TW+2:0] s_tag;
    sum_tree #(.N(P), .WI(EW), .WO(EL), .SIGNED(0), .RE(1), .TW(TW + 3)) e_sum (
        .clk(clk), .rst(rst), .en(en), .in(m_e), .in_tag({m_tag, m_v, m_first, m_last}), .out(s_lanes),
        .out_tag(s_tag));
    wire [D*LW-1:0] c_lanes;
    genvar g;
    generate
        for (g = 0; g < D; g = g + 1) begin : elem
            sum_tree #(.N(P), .WI(PW), .WO(LW), .SIGNED(1), .RE(1), .TW(1)) t (
                .clk(clk), .rst(rst), .en(en), .in(m_prod[g*P*PW +: P*PW]), .in_tag(1'b0),
                .out(c_lanes[g*LW +: LW]), .out_tag());
        end
    endgenerate
    // accumulate
    reg signed [AVW-1:0] a0, lane;      // (lane: the P-lane sum, sign-extended or cut to AVW: its value fits AVW)
    always @(posedge clk) begin
        if (rst) done <= 1'b0;
        else if (en) done <= s_tag[2] && s_tag[0];
        if (en) out_tag <= s_tag[TW+2:3];
        if (en && s_tag[2]) begin
            sum <= (s_tag[1] ? {SUMW{1'b0}} : sum) + s_lanes;
            for (c = 0; c < D; c = c + 1) begin
                a0 = s_tag[1] ? {AVW{1'b0}} : av[c*AVW +: AVW];
                lane = $signed(c_lanes[c*LW +: LW]);
                av[c*AVW +: AVW] <= a0 + lane;
            end
        end
    end
endmodule
`default_nettype wire
